/** Relative ("12 s ago") and absolute times for the dashboard. Plain text, no markup. */

const absoluteFormat = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium" });
const clockFormat = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

export const formatAbsolute = (iso: string | Date) => absoluteFormat.format(typeof iso === "string" ? new Date(iso) : iso);
export const formatClock = (iso: string | Date) => clockFormat.format(typeof iso === "string" ? new Date(iso) : iso);

/** "just now", "12 s ago", "5 min ago", "3 h ago", "2 d ago" (or "in …" for times ahead of the clock). */
export function formatRelative(iso: string, now: number): string {
  const seconds = Math.round((now - Date.parse(iso)) / 1000);
  const abs = Math.abs(seconds);
  const text =
    abs < 5 ? null : abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.floor(abs / 60)} min` : abs < 86_400 ? `${Math.floor(abs / 3600)} h` : `${Math.floor(abs / 86_400)} d`;
  if (text === null) return "just now";
  return seconds >= 0 ? `${text} ago` : `in ${text}`;
}

const moneyFormats = new Map<string, Intl.NumberFormat>();
/** An amount with its currency when known ("$12.40"), else with two decimals. */
export function formatMoney(amount: number, currency: string | null = null): string {
  const key = currency ?? "";
  let format = moneyFormats.get(key);
  if (!format) {
    try {
      format = currency
        ? new Intl.NumberFormat("en-US", { style: "currency", currency, maximumFractionDigits: 2 })
        : new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    } catch {
      format = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    }
    moneyFormats.set(key, format);
  }
  return format.format(amount);
}

export const formatCount = new Intl.NumberFormat("en-US").format;
