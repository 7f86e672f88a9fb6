import { describe, EbmError, messageOf } from './errors.js';

/** Bytes from a fetch Response, Blob or buffer-like; undefined when `source` is none of those. */
export async function bytesFromObject(
  source: unknown,
  what: string,
): Promise<{ bytes: Uint8Array; name: string } | undefined> {
  if (source instanceof Uint8Array) return { bytes: source, name: `${what} bytes` };
  if (source instanceof ArrayBuffer)
    return { bytes: new Uint8Array(source), name: `${what} bytes` };
  if (typeof Response !== 'undefined' && source instanceof Response) {
    return {
      bytes: await responseBytes(source, source.url || 'a Response'),
      name: source.url || 'Response',
    };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const name = (source as { name?: string }).name ?? 'Blob';
    return { bytes: new Uint8Array(await source.arrayBuffer()), name };
  }
  return undefined;
}

export async function responseBytes(response: Response, name: string): Promise<Uint8Array> {
  if (!response.ok) {
    throw new EbmError(
      'IO',
      `Could not fetch ${name}: HTTP ${response.status} ${response.statusText}`.trim() + '.',
      { url: name, status: response.status },
    );
  }
  if (response.bodyUsed) {
    throw new EbmError('IO', `The Response for ${name} was already read; pass a fresh one.`, {
      url: name,
    });
  }
  return new Uint8Array(await response.arrayBuffer());
}

export async function fetchBytes(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new EbmError(
      'IO',
      `Could not fetch ${url}: ${messageOf(error)}.`,
      { url },
      {
        cause: error,
      },
    );
  }
  return responseBytes(response, url);
}

export function badSource(where: string, source: unknown, expected: string): EbmError {
  return new EbmError(
    'INVALID_ARGUMENT',
    `${where}: expected ${expected}, received ${describe(source)}.`,
    { received: describe(source) },
  );
}
