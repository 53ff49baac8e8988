// Which code a bench measured: every figure a bench writes names the commit it ran at.
import { execFileSync } from "node:child_process";

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * The short commit of the checkout, with " + uncommitted changes" when tracked files
 * differ from it (the bench's own output files, `except`, left out). "unknown" without git.
 */
export function revision(except = []) {
  const quiet = { stdio: ["ignore", "pipe", "ignore"] };
  try {
    const rev = execFileSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], quiet).toString().trim();
    try {
      // Read-only (unlike `git status`, it never refreshes the index).
      execFileSync("git", ["-C", ROOT, "diff-index", "--quiet", "HEAD", "--", ".", ...except.map((p) => `:(exclude)${p}`)], quiet);
      return rev;
    } catch {
      return `${rev} + uncommitted changes`;
    }
  } catch {
    return "unknown";
  }
}
