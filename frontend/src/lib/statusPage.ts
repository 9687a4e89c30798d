/** What a status page shows, worked out in the editor's preview the way the public page does. */

export type ComponentStatus = "operational" | "degraded" | "partial_outage" | "major_outage" | "maintenance";

const SEVERITY: Record<ComponentStatus, number> = { operational: 0, maintenance: 1, degraded: 2, partial_outage: 3, major_outage: 4 };

export const STATUS_LABEL: Record<ComponentStatus, string> = {
  operational: "Operational", degraded: "Degraded performance", partial_outage: "Partial outage",
  major_outage: "Major outage", maintenance: "Under maintenance",
};

/** The page's headline: the worst status of its components (operational with none). */
export function overallStatus(statuses: ComponentStatus[]): ComponentStatus {
  return statuses.reduce<ComponentStatus>((worst, s) => (SEVERITY[s] > SEVERITY[worst] ? s : worst), "operational");
}

export function headline(status: ComponentStatus): string {
  return status === "operational" ? "All systems operational" : status === "maintenance" ? "Maintenance in progress" : STATUS_LABEL[status];
}

interface GroupLike { id: string; name: string; position: number }
interface ComponentLike { group_id: string | null; position: number; name: string }

/**
 * Components under their groups, both by position (then name); components without a group first, under no
 * heading. Groups with no components are kept (the editor shows them empty; the public page leaves them out).
 */
export function grouped<G extends GroupLike, C extends ComponentLike>(groups: G[], components: C[]): { group: G | null; components: C[] }[] {
  const order = <T extends { position: number; name: string }>(a: T, b: T) => a.position - b.position || a.name.localeCompare(b.name);
  const known = new Set(groups.map((g) => g.id));
  const loose = components.filter((c) => !c.group_id || !known.has(c.group_id)).sort(order);
  const out: { group: G | null; components: C[] }[] = loose.length ? [{ group: null, components: loose }] : [];
  for (const g of [...groups].sort(order)) out.push({ group: g, components: components.filter((c) => c.group_id === g.id).sort(order) });
  return out;
}

/** A URL path slug from a page name: lower case, ASCII letters and digits joined by single hyphens. */
export function slugify(name: string): string {
  return name.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 60);
}

interface AffectingIncident { status: string; components: { component_id: string; impact: string }[] }

/**
 * What a component shows with the page's open incidents: a pinned status stands; otherwise the worst of its
 * own status and the impacts that unresolved incidents put on it (as the public page derives it).
 */
export function effectiveStatus(c: { id: string; status: string; status_override: string | null }, incidents: AffectingIncident[]): ComponentStatus {
  if (c.status_override) return c.status_override as ComponentStatus;
  const impacts = incidents.filter((i) => i.status !== "resolved")
    .flatMap((i) => i.components.filter((a) => a.component_id === c.id).map((a) => a.impact as ComponentStatus));
  return overallStatus([c.status as ComponentStatus, ...impacts]);
}
