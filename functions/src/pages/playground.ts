// The playground at /: pick a class (type-ahead search over its names), move the guidance slider,
// interval, seed, size, format and (WebP, JPEG) quality, and the image follows, grayscale or RGB. The page holds no API key: it
// carries a short-lived page token and asks the edge
// (POST /playground/sign) for a short-lived signed URL per image.
import { allowedSizes, DEFAULT_QUALITY, IMAGE_FORMATS, LOSSY_FORMATS, QUALITY_MAX, QUALITY_MIN, type ModelRegistry } from '@imf/contract';
import { INLINE_CLASS_NAMES } from '../routes/list-models.js';
import { escapeHtml, jsonForHtml } from './html.js';

export const PLAYGROUND_TOKEN_HEADER = 'x-playground-token';

export function playgroundPage(registry: ModelRegistry, token: string): string {
  const models = Object.values(registry).map((m) => ({
    id: m.id,
    version: m.version,
    // Many classes (ImageNet's 1000) are searched on GET /v1/models/{model}/classes as one types.
    classes: m.classes.length <= INLINE_CLASS_NAMES ? m.classes : undefined,
    classCount: m.classes.length,
    color: m.image.channels === 3 ? 'rgb' : 'grayscale',
    guidance: m.guidance,
    interval: m.interval.default,
    sizes: allowedSizes(m),
  }));
  const formats = { all: IMAGE_FORMATS, lossy: LOSSY_FORMATS, quality: { min: QUALITY_MIN, max: QUALITY_MAX, default: DEFAULT_QUALITY } };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="playground-token" content="${escapeHtml(token)}">
<title>iMF playground</title>
<link rel="stylesheet" href="/playground.css">
</head>
<body>
<main>
<h1>iMF playground</h1>
<p>One network evaluation per image. Every image has one canonical URL; <a href="/docs">API docs</a>.</p>
<form id="controls" autocomplete="off">
  <label><span>Model</span><select id="model"></select></label>
  <label><span>Class <output id="class-index"></output></span><input id="class" list="class-options" placeholder="name or index" spellcheck="false"><datalist id="class-options"></datalist></label>
  <label><span>Guidance ω = <output id="guidance-value"></output></span><input id="guidance" type="range" step="0.1"></label>
  <label><span>Size</span><select id="size"></select></label>
  <label><span>Format</span><select id="format"></select></label>
  <label><span>Quality <output id="quality-value"></output></span><input id="quality" type="range" step="1"></label>
  <label><span>t<sub>min</sub> = <output id="tmin-value"></output></span><input id="tmin" type="range" min="0" max="1" step="0.05"></label>
  <label><span>t<sub>max</sub> = <output id="tmax-value"></output></span><input id="tmax" type="range" min="0" max="1" step="0.05"></label>
  <label><span>Seed</span><input id="seed" type="number" min="0" max="4294967295" step="1"></label>
  <label><span>&nbsp;</span><button type="button" id="reseed">New seed</button></label>
</form>
<figure>
  <img id="image" alt="generated image" width="256" height="256">
  <figcaption><code id="url"></code><span id="status" role="status"></span></figcaption>
</figure>
</main>
<script type="application/json" id="models">${jsonForHtml(models)}</script>
<script type="application/json" id="formats">${jsonForHtml(formats)}</script>
<script src="/playground.js" defer></script>
</body>
</html>`;
}

export const PLAYGROUND_STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f6f4;color:#222}
main{max-width:44rem;margin:2rem auto;padding:0 1rem}
form{display:grid;grid-template-columns:1fr 1fr;gap:.75rem 1.5rem}
label{display:flex;flex-direction:column;gap:.25rem;font-weight:600}
[hidden]{display:none!important}
output{font-weight:400}
input[type=range]{width:100%}
figure{margin:1.5rem 0;text-align:center}
img{background:#000;border-radius:4px;width:256px;height:256px}
img.grayscale{image-rendering:pixelated}
figcaption{font-size:.8rem;word-break:break-all;margin-top:.5rem}
#status{display:block;color:#a33}
`;

export const PLAYGROUND_SCRIPT = `// Playground: each change asks the edge for a short-lived signed URL and shows that image.
const models = JSON.parse(document.getElementById('models').textContent);
const formats = JSON.parse(document.getElementById('formats').textContent);
const token = document.querySelector('meta[name=playground-token]').content;
const $ = (id) => document.getElementById(id);
const fill = (select, items) => { select.replaceChildren(...items.map(([value, text]) => new Option(text, value))); };

const model = () => models.find((x) => x.id === $('model').value) || models[0];
const options = (classes) => $('class-options').replaceChildren(...classes.map((c) => new Option(c.index + ': ' + c.name, c.name)));

// Type-ahead: a model's names are in the page when they are few, else searched on the class list.
let searchTimer, searched = 0;
function searchClasses() {
  const m = model();
  if (m.classes) return;
  clearTimeout(searchTimer);
  searchTimer = setTimeout(async () => {
    const mine = ++searched;
    const q = $('class').value.trim();
    const response = await fetch('/v1/models/' + encodeURIComponent(m.id) + '/classes?limit=20&q=' + encodeURIComponent(/^\\d+$/.test(q) ? '' : q));
    if (mine !== searched || !response.ok) return;
    options((await response.json()).classes);
  }, 100);
}

/** The class as the API takes it: an index when digits, else the name (or a slug) as typed. */
function classValue() {
  const text = $('class').value.trim();
  return /^\\d+$/.test(text) ? Number(text) : text || 0;
}

function showModel() {
  const m = model();
  $('class').value = m.classes ? m.classes[0] : '0';
  if (m.classes) options(m.classes.map((name, index) => ({ index, name })));
  else searchClasses();
  $('image').className = m.color;
  Object.assign($('guidance'), { min: m.guidance.min, max: m.guidance.max, value: m.guidance.default });
  $('tmin').value = m.interval[0];
  $('tmax').value = m.interval[1];
  fill($('size'), m.sizes.map((s) => [String(s), s + ' px']));
  // About 224 px on screen: the digit models' fourfold, a 256-pixel model's own size.
  $('size').value = String(m.sizes.find((s) => s >= 224) || m.sizes[m.sizes.length - 1]);
}

/** Quality is a lossy format's: the slider shows that format's default and hides for PNG. */
function showFormat() {
  const format = $('format').value;
  const lossy = formats.lossy.includes(format);
  $('quality').closest('label').hidden = !lossy;
  if (lossy) $('quality').value = formats.quality.default[format];
}

let timer, generation = 0;
function schedule() { clearTimeout(timer); timer = setTimeout(update, 120); }

async function update() {
  for (const id of ['guidance', 'tmin', 'tmax', 'quality']) $(id + '-value').textContent = $(id).value;
  const mine = ++generation;
  const body = {
    model: $('model').value,
    class: classValue(),
    guidance: Number($('guidance').value),
    interval: [Number($('tmin').value), Number($('tmax').value)],
    seed: Number($('seed').value),
    size: Number($('size').value),
    format: $('format').value,
  };
  if (formats.lossy.includes(body.format)) body.quality = Number($('quality').value);
  const response = await fetch('/playground/sign', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-playground-token': token },
    body: JSON.stringify(body),
  });
  if (mine !== generation) return;
  const answer = await response.json();
  if (!response.ok) { $('status').textContent = answer.detail || answer.title; return; }
  $('status').textContent = '';
  $('image').src = answer.url;
  $('class-index').textContent = '#' + new URL(answer.url, location.href).pathname.split('/').pop().split('.')[0];
  $('url').textContent = new URL(answer.url).pathname + new URL(answer.url).search.replace(/&exp=.*$/, '');
}

fill($('model'), models.map((m) => [m.id, m.id + ' (' + m.version + ')']));
fill($('format'), formats.all.map((f) => [f, f.toUpperCase()]));
Object.assign($('quality'), { min: formats.quality.min, max: formats.quality.max });
showModel();
showFormat();
$('seed').value = String(Math.floor(Math.random() * 2 ** 32));
$('model').addEventListener('change', () => { showModel(); schedule(); });
$('format').addEventListener('change', showFormat);
$('controls').addEventListener('input', schedule);
$('class').addEventListener('input', searchClasses);
$('reseed').addEventListener('click', () => { $('seed').value = String(Math.floor(Math.random() * 2 ** 32)); schedule(); });
$('image').addEventListener('error', () => { if ($('image').src) $('status').textContent = 'the image could not be generated right now'; });
update();
`;
