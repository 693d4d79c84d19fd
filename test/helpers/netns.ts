// A network namespace joined to this one by a veth pair on a private /30, for
// partition tests: processes run inside with `ip netns exec NAME …` (link.wrap)
// and reach the root namespace at link.hostAddress; cut() brings the namespace's
// end of the link down (its packets go nowhere, no connection is reset: a
// partition), restore() brings it back. Names are unique per call; remove()
// deletes the namespace and the pair and is safe to call twice.
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';

export interface NetnsLink {
  name: string;
  /** The root namespace's end: listen here to be reachable from inside. */
  hostAddress: string;
  /** Prefix of a command run inside the namespace. */
  wrap: string[];
  cut(): void;
  restore(): void;
  remove(): void;
}

/** Why the partition tests cannot run here (not root, no `ip`), or undefined when they can. */
export function netnsSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'the `ip` command (Debian package iproute2) is not installed';
  }
  return undefined;
}

/** Links not removed yet: removeNetnsLinks() in a test's `after` removes them even when a test timed out. */
const open = new Map<string, () => void>();

export function removeNetnsLinks(): void {
  for (const remove of open.values()) remove();
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createNetnsLink(): NetnsLink {
  // Interface names have at most 15 characters: 2 + 8.
  const id = randomBytes(4).toString('hex');
  const name = `planrun-${id}`;
  const host = `vh${id}`;
  const inside = `vn${id}`;
  // 10.200.X.Y/30 with Y = 4k + 1: the host end, Y + 1 the namespace's.
  const net = `10.200.${randomInt(256)}.${4 * randomInt(64)}`;
  const base = net.split('.').map(Number);
  const addr = (n: number) => `${base.slice(0, 3).join('.')}.${base[3]! + n}`;
  let removed = false;
  const remove = () => {
    if (removed) return;
    removed = true;
    open.delete(name);
    // Deleting the namespace deletes its end of the pair, and so the pair.
    for (const args of [
      ['netns', 'del', name],
      ['link', 'del', host],
    ]) {
      try {
        ip(...args);
      } catch {
        // Not there (never created, or gone with the namespace).
      }
    }
  };
  try {
    ip('netns', 'add', name);
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', name);
    ip('addr', 'add', `${addr(1)}/30`, 'dev', host);
    ip('link', 'set', host, 'up');
    ip('-n', name, 'addr', 'add', `${addr(2)}/30`, 'dev', inside);
    ip('-n', name, 'link', 'set', inside, 'up');
    ip('-n', name, 'link', 'set', 'lo', 'up');
  } catch (e) {
    remove();
    throw e;
  }
  const link: NetnsLink = {
    name,
    hostAddress: addr(1),
    wrap: ['ip', 'netns', 'exec', name],
    cut: () => ip('-n', name, 'link', 'set', inside, 'down'),
    restore: () => ip('-n', name, 'link', 'set', inside, 'up'),
    remove,
  };
  open.set(name, remove);
  return link;
}
