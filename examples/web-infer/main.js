// The web-infer example: load an exported encoder, embed a gallery, and show the nearest
// gallery images for every image dropped on the page. Query parameters: ?model=<url>
// &gallery=<manifest url>&device=auto|webgpu|wasm&threads=<n>&wasmPaths=<url prefix>.
import { EmbeddingIndex, FeatureExtractor } from '@ebmjs/web-infer';

const params = new URLSearchParams(location.search);
const settings = {
  model: params.get('model') ?? 'conv-rgb-nchw.onnx',
  gallery: params.get('gallery') ?? 'gallery.json',
  device: params.get('device') ?? 'auto',
  threads: params.has('threads') ? Number(params.get('threads')) : undefined,
  wasmPaths: params.get('wasmPaths') ?? undefined,
  k: Number(params.get('k') ?? 5),
};

const $ = (id) => document.getElementById(id);
const status = $('status');
const deviceSelect = $('device');
deviceSelect.value = settings.device;

let extractor = null;
let index = new EmbeddingIndex();
let galleryUrls = [];
let timings = null;
let lastSearch = Promise.resolve([]);

function setStatus(text, state) {
  status.textContent = text;
  status.dataset.state = state;
}

function showInfo(fx, modelName) {
  const info = fx.info;
  const pre = info.preprocessing;
  const rows = {
    model: modelName,
    device: `${fx.device} (${fx.runtime})`,
    'fell back from':
      fx.fallbacks.length === 0
        ? '–'
        : fx.fallbacks.map((f) => `${f.device}: ${f.reason}`).join('; '),
    input: `[${info.inputShape.map((d) => d ?? 'batch').join(', ')}] ${info.layout}`,
    preprocessing: `x · ${pre.scale.toPrecision(4)} − [${pre.mean.join(', ')}] ÷ [${pre.std.join(', ')}]`,
    embedding: `${info.embeddingDim ?? '?'} floats${info.outputNormalized ? ', L2-normalized by the model' : ''}`,
  };
  $('model-info').replaceChildren(
    ...Object.entries(rows).flatMap(([k, v]) => {
      const dt = document.createElement('dt');
      dt.textContent = k;
      const dd = document.createElement('dd');
      dd.textContent = v;
      return [dt, dd];
    }),
  );
}

function figure(src, caption, title) {
  const fig = document.createElement('figure');
  const img = document.createElement('img');
  img.src = src;
  img.alt = title ?? caption;
  const cap = document.createElement('figcaption');
  cap.innerHTML = caption;
  fig.append(img, cap);
  return fig;
}

async function loadModel(source, name) {
  setStatus(`Loading ${name} on ${deviceSelect.value}…`, 'loading');
  const previous = extractor;
  extractor = null;
  await previous?.dispose();
  const t0 = performance.now();
  const fx = await FeatureExtractor.create(source, {
    device: deviceSelect.value,
    ...(settings.threads === undefined ? {} : { threads: settings.threads }),
    ...(settings.wasmPaths === undefined ? {} : { wasmPaths: settings.wasmPaths }),
  });
  showInfo(fx, name);
  const t1 = performance.now();
  const embeddings = await fx.extract(galleryUrls);
  index = new EmbeddingIndex();
  galleryUrls.forEach((url, i) => index.add(url, embeddings[i]));
  extractor = fx;
  timings = { createMs: t1 - t0, galleryMs: performance.now() - t1 };
  setStatus(
    `Ready on ${fx.device}: encoder started in ${timings.createMs.toFixed(0)} ms, ${galleryUrls.length} gallery images embedded in ${timings.galleryMs.toFixed(0)} ms.`,
    'ready',
  );
  $('results').replaceChildren();
  return fx;
}

async function loadGallery() {
  const manifest = await (await fetch(settings.gallery)).json();
  const base = new URL(settings.gallery, location.href);
  galleryUrls = manifest.images.map((p) => new URL(p, base).href);
  $('gallery-count').textContent = `(${galleryUrls.length} images)`;
  $('gallery').replaceChildren(
    ...galleryUrls.map((url) =>
      figure(
        url,
        url
          .split('/')
          .pop()
          .replace(/\.\w+$/, ''),
      ),
    ),
  );
}

/** Embeds the dropped files and shows the k nearest gallery images for each. */
async function search(files) {
  if (extractor === null) return [];
  const images = [...files].filter((f) => f.type.startsWith('image/') || f.type === '');
  const t0 = performance.now();
  const embeddings = await extractor.extract(images);
  const results = images.map((file, i) => ({
    name: file.name,
    embedding: Array.from(embeddings[i]),
    hits: index.search(embeddings[i], settings.k),
  }));
  $('results').replaceChildren(
    ...results.map(({ name, hits }, i) => {
      const row = document.createElement('div');
      row.className = 'query';
      const list = document.createElement('div');
      list.className = 'neighbours';
      list.append(
        ...hits.map((h) =>
          figure(
            h.id,
            `<span class="score">${h.score.toFixed(3)}</span> ${h.id
              .split('/')
              .pop()
              .replace(/\.\w+$/, '')}`,
          ),
        ),
      );
      row.append(figure(URL.createObjectURL(images[i]), `query: ${name}`), list);
      return row;
    }),
  );
  setStatus(
    `Searched ${images.length} image(s) on ${extractor.device} in ${(performance.now() - t0).toFixed(0)} ms.`,
    'ready',
  );
  return results;
}

const drop = $('drop');
drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  lastSearch = search(e.dataTransfer.files).catch(fail);
});
$('query-files').addEventListener('change', (e) => {
  lastSearch = search(e.target.files).catch(fail);
});

let modelSource = settings.model;
let modelName = settings.model;
$('model-file').addEventListener('change', (e) => {
  const file = e.target.files[0];
  if (file === undefined) return;
  modelSource = file;
  modelName = file.name;
  loadModel(modelSource, modelName).catch(fail);
});
deviceSelect.addEventListener('change', () => loadModel(modelSource, modelName).catch(fail));

function fail(error) {
  console.error(error);
  setStatus(`${error.name}${error.code ? ` (${error.code})` : ''}: ${error.message}`, 'error');
}

// A small hook for the browser tests (and the curious): embeddings and search results.
const ready = loadGallery()
  .then(() => loadModel(modelSource, modelName))
  .catch((error) => {
    fail(error);
    throw error;
  });
window.ebmDemo = {
  ready: ready.then(() => ({
    device: extractor.device,
    runtime: extractor.runtime,
    fallbacks: extractor.fallbacks,
    timings,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
  })),
  /** Embeddings of image URLs as plain arrays. */
  embed: async (urls) => (await extractor.extract(urls)).map((e) => Array.from(e)),
  /** Resolves with the results of the search the file input started last. */
  lastSearch: () => lastSearch,
  /** The gallery's (unit-length) embeddings by image URL. */
  galleryEmbeddings: () =>
    Object.fromEntries(index.ids().map((id) => [id, Array.from(index.get(id))])),
};
