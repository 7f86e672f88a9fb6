/** Seeded clustered embeddings (a mixture of Gaussians around random unit centres), like real ones. */
export function clusteredEmbeddings(
  count: number,
  dim: number,
  {
    clusters = 100,
    spread = 0.35,
    seed = 1,
  }: { clusters?: number; spread?: number; seed?: number } = {},
): Float32Array[] {
  let s = seed >>> 0;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, gauss));
  return Array.from({ length: count }, () => {
    const c = centres[Math.floor(uniform() * clusters)]!;
    return Float32Array.from(c, (x) => x + spread * gauss());
  });
}
