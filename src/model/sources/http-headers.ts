/** What an HTTP response's headers say about the file: its length, version and hash. */

/** A compressed body: its length is not the file's, and its bytes cannot be resumed by range. */
export function isEncoded(headers: Headers): boolean {
  return (headers.get('Content-Encoding') ?? 'identity') !== 'identity';
}

/** The file's size from Content-Length, when the body is not compressed. */
export function bodyLength(headers: Headers): number | undefined {
  return isEncoded(headers) ? undefined : count(headers.get('Content-Length'));
}

/** The hub's `X-Linked-Size` of an LFS file (the size behind its redirect). */
export function linkedSize(headers: Headers): number | undefined {
  return count(headers.get('X-Linked-Size'));
}

function count(header: string | null): number | undefined {
  const n = Number(header ?? NaN);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The hub's `X-Linked-Etag` of an LFS file: its sha256 (quoted hex). */
export function linkedSha256(headers: Headers): string | undefined {
  const match = /^(?:W\/)?"?([0-9a-f]{64})"?$/i.exec(headers.get('X-Linked-Etag')?.trim() ?? '');
  return match ? match[1].toLowerCase() : undefined;
}

/** A strong ETag (If-Range needs one), as sent. */
export function strongEtag(headers: Headers): string | undefined {
  const tag = headers.get('ETag')?.trim();
  return tag && !tag.startsWith('W/') ? tag : undefined;
}

/** `bytes START-END/TOTAL` (TOTAL may be `*`). */
export function parseContentRange(header: string | null): { start: number; total?: number } | undefined {
  const match = header ? /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header.trim()) : null;
  if (!match) return undefined;
  return { start: Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3]) };
}
