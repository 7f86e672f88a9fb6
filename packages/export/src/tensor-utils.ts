/** Row-major strides of a shape. */
export function strides(dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) out[i] = out[i + 1]! * dims[i + 1]!;
  return out;
}

export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** out = transpose(data, perm) for a row-major tensor: out.dims[i] = dims[perm[i]]. */
export function permuteData<T extends Float32Array | Uint16Array | BigInt64Array>(
  data: T,
  dims: readonly number[],
  perm: readonly number[],
): { data: T; dims: number[] } {
  const outDims = perm.map((p) => dims[p]!);
  const inStrides = strides(dims);
  // Stride in the input for each output axis.
  const step = perm.map((p) => inStrides[p]!);
  const out = new (data.constructor as new (n: number) => T)(data.length);
  const rank = dims.length;
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < data.length; i++) {
    out[i] = data[src]!;
    // Odometer increment over the output index, tracking the matching input offset.
    for (let a = rank - 1; a >= 0; a--) {
      index[a]! += 1;
      src += step[a]!;
      if (index[a]! < outDims[a]!) break;
      src -= step[a]! * outDims[a]!;
      index[a] = 0;
    }
  }
  return { data: out, dims: outDims };
}

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

/** Transpose(perm = second) applied after Transpose(perm = first): one Transpose with this perm. */
export function composePerm(first: readonly number[], second: readonly number[]): number[] {
  return second.map((s) => first[s]!);
}

export function isIdentityPerm(perm: readonly number[]): boolean {
  return perm.every((p, i) => p === i);
}
