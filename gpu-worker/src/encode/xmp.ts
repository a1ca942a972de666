// Marking: every image says, machine-readably, that it was generated, by which model and version and
// (unless the operator leaves them out) with which parameters: an XMP packet with the IPTC digital
// source type trainedAlgorithmicMedia, embedded the way each format carries XMP (PNG iTXt before
// IDAT, WebP's XMP chunk under an extended VP8X header, JPEG APP1). A byte-level step after
// encoding, so it works on whatever the encoder wrote; no clock or host goes in, so the same
// request still gives the same bytes.
import { concatBytes, type ImageFormat } from '@imf/contract';

/** IPTC NewsCodes: "created by software using a model derived from sampled content" (EU AI Act Art. 50 marking). */
export const TRAINED_ALGORITHMIC_MEDIA = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';
/** Namespace of the generation parameters (imf:Class, imf:Guidance, …). */
export const IMF_XMP_NAMESPACE = 'urn:imf:generation/1.0/';

export interface Provenance {
  model: string;
  version: string;
  /** The generation parameters (class, guidance, interval, seed, size, format, …); omitted: not written. */
  parameters?: Readonly<Record<string, string | number>>;
}

const escapeXml = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** `tmin` → `Tmin`: XMP property names, one per request field. */
const propertyName = (field: string) => field.charAt(0).toUpperCase() + field.slice(1).replace(/[^A-Za-z0-9]/g, '');

/**
 * The XMP packet of an image: the digital source type, the model as the AI system used (IPTC 2024
 * AISystemUsed / AISystemVersionUsed) and as the creator tool, and the parameters in their own
 * namespace, sorted by name so the packet depends only on the values.
 */
export function xmpPacket(provenance: Provenance): string {
  const { model, version, parameters } = provenance;
  const attributes = [
    ['Iptc4xmpExt:DigitalSourceType', TRAINED_ALGORITHMIC_MEDIA],
    ['Iptc4xmpExt:AISystemUsed', model],
    ['Iptc4xmpExt:AISystemVersionUsed', version],
    ['xmp:CreatorTool', `${model} ${version}`],
    ...Object.keys(parameters ?? {})
      .sort()
      .map((field) => [`imf:${propertyName(field)}`, String(parameters![field])]),
  ];
  return (
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>\n' +
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n' +
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n' +
    '  <rdf:Description rdf:about=""\n' +
    '    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"\n' +
    '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n' +
    `    xmlns:imf="${IMF_XMP_NAMESPACE}"\n` +
    attributes.map(([name, value]) => `    ${name}="${escapeXml(value!)}"`).join('\n') +
    '/>\n' +
    ' </rdf:RDF>\n' +
    '</x:xmpmeta>\n' +
    '<?xpacket end="r"?>'
  );
}

const utf8 = new TextEncoder();
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 as PNG chunks carry it (ISO 3309). */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** An iTXt chunk `XML:com.adobe.xmp` (uncompressed, no language) inserted before the first IDAT. */
function markPng(png: Uint8Array, packet: string): Uint8Array {
  if (png.byteLength < 8 || PNG_SIGNATURE.some((b, i) => png[i] !== b)) throw new Error('not a PNG');
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let at = 8;
  while (at + 8 <= png.byteLength) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === 'IDAT') break;
    at += 12 + length;
  }
  if (at + 8 > png.byteLength) throw new Error('PNG without IDAT');
  const data = concatBytes([ascii('XML:com.adobe.xmp'), new Uint8Array([0, 0, 0, 0, 0]), utf8.encode(packet)]);
  const chunk = new Uint8Array(12 + data.byteLength);
  const chunkView = new DataView(chunk.buffer);
  chunkView.setUint32(0, data.byteLength);
  chunk.set(ascii('iTXt'), 4);
  chunk.set(data, 8);
  chunkView.setUint32(8 + data.byteLength, crc32(chunk.subarray(4, 8 + data.byteLength)));
  return concatBytes([png.subarray(0, at), chunk, png.subarray(at)]);
}

/** A RIFF chunk: fourcc, little-endian size, payload, a pad byte to an even length. */
function riffChunk(fourcc: string, payload: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(8 + payload.byteLength + (payload.byteLength & 1));
  chunk.set(ascii(fourcc), 0);
  new DataView(chunk.buffer).setUint32(4, payload.byteLength, true);
  chunk.set(payload, 8);
  return chunk;
}

/** VP8X flags (WebP container spec): ICC, alpha, EXIF, XMP, animation. */
const VP8X_ALPHA = 0x10;
const VP8X_XMP = 0x04;

/** Canvas size and alpha of a simple WebP's bitstream (VP8 key frame or VP8L header). */
function simpleWebpCanvas(fourcc: string, payload: Uint8Array): { width: number; height: number; alpha: boolean } {
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  if (fourcc === 'VP8L') {
    if (payload[0] !== 0x2f) throw new Error('VP8L without its signature');
    const bits = view.getUint32(1, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, alpha: ((bits >>> 28) & 1) === 1 };
  }
  if (payload[3] !== 0x9d || payload[4] !== 0x01 || payload[5] !== 0x2a) throw new Error('VP8 without a key frame start code');
  return { width: view.getUint16(6, true) & 0x3fff, height: view.getUint16(8, true) & 0x3fff, alpha: false };
}

/**
 * An `XMP ` chunk after the image data, the VP8X header's XMP flag set; a simple (VP8/VP8L) file is
 * first turned into the extended format, its canvas from the bitstream.
 */
function markWebp(webp: Uint8Array, packet: string): Uint8Array {
  if (webp.byteLength < 20 || String.fromCharCode(...webp.subarray(0, 4)) !== 'RIFF' || String.fromCharCode(...webp.subarray(8, 12)) !== 'WEBP') throw new Error('not a WebP');
  const view = new DataView(webp.buffer, webp.byteOffset, webp.byteLength);
  const first = String.fromCharCode(...webp.subarray(12, 16));
  const chunks = webp.subarray(12, Math.min(webp.byteLength, 8 + view.getUint32(4, true)));
  let body: Uint8Array;
  if (first === 'VP8X') {
    body = chunks.slice();
    body[8] = body[8]! | VP8X_XMP;
  } else if (first === 'VP8 ' || first === 'VP8L') {
    const size = view.getUint32(16, true);
    const canvas = simpleWebpCanvas(first, webp.subarray(20, 20 + size));
    const header = new Uint8Array(10);
    header[0] = VP8X_XMP | (canvas.alpha ? VP8X_ALPHA : 0);
    const h = new DataView(header.buffer);
    h.setUint16(4, (canvas.width - 1) & 0xffff, true);
    header[6] = ((canvas.width - 1) >>> 16) & 0xff;
    h.setUint16(7, (canvas.height - 1) & 0xffff, true);
    header[9] = ((canvas.height - 1) >>> 16) & 0xff;
    body = concatBytes([riffChunk('VP8X', header), chunks]);
  } else {
    throw new Error(`WebP starting with an unknown chunk "${first}"`);
  }
  const riffBody = concatBytes([ascii('WEBP'), body, riffChunk('XMP ', utf8.encode(packet))]);
  const out = concatBytes([ascii('RIFF'), new Uint8Array(4), riffBody]);
  new DataView(out.buffer).setUint32(4, riffBody.byteLength, true);
  return out;
}

const JPEG_XMP_HEADER = 'http://ns.adobe.com/xap/1.0/\0';

/** An APP1 segment with the XMP namespace header, after SOI and a JFIF APP0 (which must come first). */
function markJpeg(jpeg: Uint8Array, packet: string): Uint8Array {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('not a JPEG');
  let at = 2;
  if (jpeg[2] === 0xff && jpeg[3] === 0xe0) at = 4 + ((jpeg[4]! << 8) | jpeg[5]!);
  const payload = concatBytes([ascii(JPEG_XMP_HEADER), utf8.encode(packet)]);
  if (payload.byteLength + 2 > 0xffff) throw new Error('XMP packet too large for one APP1 segment');
  const segment = concatBytes([new Uint8Array([0xff, 0xe1, (payload.byteLength + 2) >> 8, (payload.byteLength + 2) & 0xff]), payload]);
  return concatBytes([jpeg.subarray(0, at), segment, jpeg.subarray(at)]);
}

/** The encoded image with the provenance's XMP packet embedded as its format carries XMP. */
export function markImage(bytes: Uint8Array, format: ImageFormat, provenance: Provenance): Uint8Array {
  const packet = xmpPacket(provenance);
  if (format === 'png') return markPng(bytes, packet);
  if (format === 'webp') return markWebp(bytes, packet);
  return markJpeg(bytes, packet);
}
