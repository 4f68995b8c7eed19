// Every relative link in README.md and docs/**/*.md must resolve: the file (or folder) exists, and an #anchor
// names a heading of the target, slugged the way GitHub does. Pure file reads: a unit test.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

function markdownFiles(): string[] {
  const out = [join(ROOT, 'README.md')];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.md')) out.push(path);
    }
  };
  walk(join(ROOT, 'docs'));
  return out;
}

/** The text outside fenced code blocks, and outside inline code spans. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '').replace(/`[^`\n]*`/g, '');
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function githubSlugs(markdown: string): Set<string> {
  const withoutFences = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of withoutFences.matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const text = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    slugs.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of withoutFences.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) slugs.add(m[1]);
  return slugs;
}

interface Link {
  file: string;
  target: string;
}

function relativeLinks(file: string): Link[] {
  const text = prose(readFileSync(file, 'utf8'));
  const links: Link[] = [];
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1];
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, …
    links.push({ file, target });
  }
  return links;
}

function problem(link: Link): string | undefined {
  const [pathPart, anchor] = link.target.split('#', 2) as [string, string | undefined];
  const targetPath = pathPart === '' ? link.file : resolve(dirname(link.file), decodeURIComponent(pathPart));
  if (!existsSync(targetPath)) return 'no such file';
  if (anchor === undefined || anchor === '') return undefined;
  if (statSync(targetPath).isDirectory() || !targetPath.endsWith('.md')) return 'an anchor into something that is not Markdown';
  return githubSlugs(readFileSync(targetPath, 'utf8')).has(decodeURIComponent(anchor).toLowerCase()) ? undefined : `no heading #${anchor}`;
}

describe('links in README.md and docs/', () => {
  it('slugs headings the way GitHub does', () => {
    const slugs = githubSlugs('# A. B\n## `host.json` choices\n## Re-arm, supersede and snapshot interval\n## A. B\n```\n# not a heading\n```\n');
    expect([...slugs]).toEqual(['a-b', 'hostjson-choices', 're-arm-supersede-and-snapshot-interval', 'a-b-1']);
  });

  it('every relative link resolves to an existing file and heading', () => {
    const files = markdownFiles();
    expect(files.length).toBeGreaterThan(5);
    const broken = files
      .flatMap(relativeLinks)
      .map((l) => ({ l, why: problem(l) }))
      .filter((x) => x.why !== undefined)
      .map(({ l, why }) => `${relative(ROOT, l.file)}: (${l.target}) ${why}`);
    expect(broken).toEqual([]);
  });
});
