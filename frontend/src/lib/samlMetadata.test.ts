// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { parseIdpMetadata, toPem } from "./samlMetadata";

const CERT = "MIIC" + "A".repeat(100) + "==";
const metadata = (inner: string, entity = 'entityID="https://idp.example.com/meta"') => `<?xml version="1.0"?>
<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ${entity}>
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${inner}</md:IDPSSODescriptor>
</md:EntityDescriptor></md:EntitiesDescriptor>`;
const KEYS = `
  <md:KeyDescriptor use="encryption"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>ENCRYPTION</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>
    ${CERT.slice(0, 50)}
    ${CERT.slice(50)}
  </ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;
const SERVICES = `
  <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/slo/post"/>
  <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso/post"/>
  <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location=" https://idp.example.com/sso/redirect "/>`;

describe("parseIdpMetadata", () => {
  it("takes the entity id, the redirect binding's SSO URL, any SLO URL and the signing certificate as PEM", () => {
    const m = parseIdpMetadata(metadata(KEYS + SERVICES));
    expect(m.entityId).toBe("https://idp.example.com/meta");
    expect(m.ssoUrl).toBe("https://idp.example.com/sso/redirect");
    expect(m.sloUrl).toBe("https://idp.example.com/slo/post");
    expect(m.certificate).toBe(toPem(CERT));
    expect(m.certificate.split("\n").slice(1, -1).every((line) => line.length <= 64)).toBe(true);
  });

  it("says what is missing", () => {
    expect(() => parseIdpMetadata("<not xml")).toThrow(/well-formed/);
    expect(() => parseIdpMetadata('<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>')).toThrow(/IDPSSODescriptor/);
    expect(() => parseIdpMetadata(metadata(KEYS + SERVICES, ""))).toThrow(/entityID/);
    expect(() => parseIdpMetadata(metadata(KEYS))).toThrow(/SingleSignOnService/);
    expect(() => parseIdpMetadata(metadata(SERVICES))).toThrow(/certificate/);
  });
});

describe("toPem", () => {
  it("wraps the base64 body at 64 characters between the PEM markers", () => {
    expect(toPem(" AB\nCD ")).toBe("-----BEGIN CERTIFICATE-----\nABCD\n-----END CERTIFICATE-----");
    expect(toPem("")).toBe("");
  });
});
