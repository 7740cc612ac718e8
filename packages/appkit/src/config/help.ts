import { envName, flagName, type OptionTable } from "./load.js";

export interface HelpText {
  readonly usage: string;
  readonly summary: string;
  readonly envPrefix: string;
  readonly footer?: string;
}

/** --help: every option with its environment variable and default. */
export function renderHelp(table: OptionTable, text: HelpText): string {
  const rows = Object.entries(table).map(([key, def]) => {
    const left = `  --${flagName(key)}${def.value === undefined ? "" : ` ${def.value}`}`;
    const shown = def.default === undefined ? "unset" : def.secret === true ? "unset" : JSON.stringify(def.default);
    return { left, right: `${def.help} [${envName(text.envPrefix, key)}; default ${shown}]` };
  });
  rows.push({
    left: "  --config FILE",
    right: `JSON file of options, keys as listed below [${text.envPrefix}_CONFIG]`,
  });
  rows.push({ left: "  -h, --help", right: "show this help" });
  const width = Math.max(...rows.map((row) => row.left.length)) + 2;
  const lines = [
    `Usage: ${text.usage}`,
    "",
    text.summary,
    "",
    "Options (precedence: defaults < --config file < environment < flags):",
    ...rows.map((row) => row.left.padEnd(width) + row.right),
    "",
    `Config file keys: ${Object.keys(table).join(", ")}`,
  ];
  if (text.footer !== undefined) lines.push("", text.footer);
  return lines.join("\n") + "\n";
}
