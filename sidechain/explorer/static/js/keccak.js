// Keccak-256 (the pre-NIST padding Ethereum uses), for function selectors and event topics.
// Lanes are BigInts: slow per byte, but the explorer only hashes short signatures.

const MASK = (1n << 64n) - 1n;
const ROTATIONS = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14];
const ROUND_CONSTANTS = (() => {
  const out = [];
  let r = 1;
  for (let i = 0; i < 24; i++) {
    let c = 0n;
    for (let j = 0; j < 7; j++) {
      if (r & 1) c |= 1n << BigInt((1 << j) - 1);
      r = (r << 1) ^ (r & 0x80 ? 0x171 : 0);
    }
    out.push(c);
  }
  return out;
})();

const rotl = (x, n) => (n === 0 ? x : ((x << BigInt(n)) | (x >> BigInt(64 - n))) & MASK);

function permute(s) {
  for (let round = 0; round < 24; round++) {
    const c = [0, 1, 2, 3, 4].map((x) => s[x] ^ s[x + 5] ^ s[x + 10] ^ s[x + 15] ^ s[x + 20]);
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (let y = 0; y < 25; y += 5) s[x + y] ^= d;
    }
    const b = new Array(25);
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(s[x + 5 * y], ROTATIONS[x + 5 * y]);
    }
    for (let i = 0; i < 25; i += 5) {
      for (let x = 0; x < 5; x++) s[i + x] = b[i + x] ^ (~b[i + ((x + 1) % 5)] & MASK & b[i + ((x + 2) % 5)]);
    }
    s[0] ^= ROUND_CONSTANTS[round];
  }
}

/** keccak256 of bytes (Uint8Array) or a UTF-8 string, as 0x-prefixed hex. */
export function keccak256(input) {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const rate = 136;
  const padded = new Uint8Array(Math.ceil((bytes.length + 1) / rate) * rate);
  padded.set(bytes);
  padded[bytes.length] ^= 0x01;
  padded[padded.length - 1] ^= 0x80;
  const s = new Array(25).fill(0n);
  for (let off = 0; off < padded.length; off += rate) {
    for (let i = 0; i < rate / 8; i++) {
      let lane = 0n;
      for (let k = 7; k >= 0; k--) lane = (lane << 8n) | BigInt(padded[off + i * 8 + k]);
      s[i] ^= lane;
    }
    permute(s);
  }
  let hex = "0x";
  for (let i = 0; i < 4; i++) {
    for (let k = 0; k < 8; k++) hex += Number((s[i] >> BigInt(8 * k)) & 0xffn).toString(16).padStart(2, "0");
  }
  return hex;
}
