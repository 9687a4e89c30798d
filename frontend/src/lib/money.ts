/** Prices arrive in the currency's minor unit (cents): 2900 usd → "$29", 29000 eur → "€290", 1999 → "$19.99". */
export function formatMoney(minor: number, currency: string, locale?: string): string {
  const major = minor / 100;
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency: currency.toUpperCase(),
      minimumFractionDigits: Number.isInteger(major) ? 0 : 2, maximumFractionDigits: 2 }).format(major);
  } catch {
    return `${major.toFixed(2)} ${currency.toUpperCase()}`;
  }
}

export const TIER_ORDER = ["free", "pro", "team", "enterprise"] as const;
export type Tier = (typeof TIER_ORDER)[number];

/** Whether moving from `current` to `target` is an upgrade (+1), a downgrade (-1) or no change (0). */
export function direction(current: string, target: string): -1 | 0 | 1 {
  const a = TIER_ORDER.indexOf(current as Tier);
  const b = TIER_ORDER.indexOf(target as Tier);
  return b > a ? 1 : b < a ? -1 : 0;
}

/** What a year costs compared with twelve months: the saving in percent (rounded), 0 when none. */
export function yearlySaving(month: number, year: number): number {
  if (!(month > 0) || !(year > 0)) return 0;
  return Math.max(0, Math.round((1 - year / (12 * month)) * 100));
}
