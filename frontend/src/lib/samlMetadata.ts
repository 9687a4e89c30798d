/** The fields of a SAML IdP's metadata XML that our SSO configuration needs. */
export interface IdpMetadata {
  entityId: string;
  ssoUrl: string;
  sloUrl: string;
  certificate: string;
}

const MD = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS = "http://www.w3.org/2000/09/xmldsig#";
const REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

function byBinding(services: Element[]): string {
  const redirect = services.find((s) => s.getAttribute("Binding") === REDIRECT);
  return (redirect ?? services[0])?.getAttribute("Location")?.trim() ?? "";
}

/** PEM with 64-character lines, from the base64 body metadata carries (whitespace anywhere). */
export function toPem(base64: string): string {
  const body = base64.replace(/\s+/g, "");
  if (!body) return "";
  return `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----`;
}

/**
 * Reads an IdP's EntityDescriptor (also when wrapped in an EntitiesDescriptor): the entity id, the SSO and SLO
 * locations (HTTP-Redirect preferred, as our login sends a redirect) and the signing certificate as PEM.
 * Throws an Error saying what is missing.
 */
export function parseIdpMetadata(xml: string, parser: DOMParser = new DOMParser()): IdpMetadata {
  const doc = parser.parseFromString(xml.trim(), "application/xml");
  if (doc.getElementsByTagName("parsererror").length) throw new Error("This is not well-formed XML.");
  const idp = doc.getElementsByTagNameNS(MD, "IDPSSODescriptor")[0];
  if (!idp) throw new Error("No IDPSSODescriptor in this metadata: is it the identity provider's metadata?");
  const entity = idp.parentElement;
  const entityId = entity?.getAttribute("entityID")?.trim() ?? "";
  if (!entityId) throw new Error("The metadata has no entityID.");
  const ssoUrl = byBinding(Array.from(idp.getElementsByTagNameNS(MD, "SingleSignOnService")));
  if (!ssoUrl) throw new Error("The metadata has no SingleSignOnService location.");
  const sloUrl = byBinding(Array.from(idp.getElementsByTagNameNS(MD, "SingleLogoutService")));
  const keys = Array.from(idp.getElementsByTagNameNS(MD, "KeyDescriptor"));
  const signing = keys.find((k) => k.getAttribute("use") === "signing") ?? keys.find((k) => !k.getAttribute("use"));
  const cert = signing?.getElementsByTagNameNS(DS, "X509Certificate")[0]?.textContent ?? "";
  if (!cert.trim()) throw new Error("The metadata has no signing certificate.");
  return { entityId, ssoUrl, sloUrl, certificate: toPem(cert) };
}
