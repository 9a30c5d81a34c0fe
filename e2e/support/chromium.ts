/** Chromium's flags for e2e, screenshots and the browser bench (headless, in a container, run as root). */
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];
