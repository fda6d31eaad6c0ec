#!/usr/bin/env python3
"""The GPU challenge kernel (src/domain/challenge.ts, bit for bit): seeded int8 matrix products, committed to a SHA-256
Merkle root, then opened at the entries the coordinator samples.

The agent runs it in a locked-down container that sees only the challenged GPU (src/provider/challenge-kernel.ts) and
talks to it in line-delimited JSON over stdin/stdout:

    in:  {"seed": "<32 hex>", "params": {"n":…, "k":…, "batches":…, "leafEntries":…, "samples":…},
          "vram": {"words":…, "rounds":…, "queries":…}}          (vram optional)
    out: {"root": "<base64>", "backend": "torch-cuda" | "numpy", "computeMs": …}
then, any number of times until stdin closes:
    in:  {"vram": [word index, …]}    out: {"vram": [word, …]}
    in:  {"samples": [entry, …]}      out: {"openings": [{"entry":…, "leaf":[…], "path":["<base64>", …]}, …]}

The VRAM table (src/domain/vram.ts) is allocated whole and filled before the products are computed, and stays
resident until the process ends: a GPU with less memory than its model claims fails at the allocation.

Errors are one line {"error": "…"} and exit status 1.

Backends: PyTorch on CUDA when present (int8 tensor-core GEMM via torch._int_mm, leaf and inner hashes computed on the
GPU as vectorised SHA-256), numpy otherwise (float64 BLAS GEMM, exact because every partial sum is an integer below 2^31;
hashlib for the hashes). Why hash on the GPU: an H100 produces int32 entries at ~112 GB/s under the real-GPU sizing,
far beyond one CPU core's SHA-256 (~1-2 GB/s); the CPU only hashes the per-batch roots.

Every step is exact integer arithmetic on 64-bit lanes masked to 32 bits, so numpy and torch give identical bits.
"""
import base64
import hashlib
import json
import sys
import time

MASK = 0xFFFFFFFF
# Keep whole products for the openings up to this many bytes; beyond it a sampled batch is recomputed.
KEEP_PRODUCTS_BYTES = 512 * 1024 * 1024


class Backend:
    """The array library (numpy or torch) behind a handful of operations the kernel needs."""

    def __init__(self, force=None):
        self.name = 'numpy'
        self.torch = None
        if force != 'numpy':
            try:
                import torch  # noqa: PLC0415 (optional: only the GPU image has it)

                if torch.cuda.is_available():
                    self.torch = torch
                    self.device = torch.device('cuda')
                    self.name = 'torch-cuda'
            except ImportError:
                pass
        self.sha_kernel = cuda_sha_kernel() if self.torch else None
        if self.sha_kernel:
            self.name = 'torch-cuda+cupy-sha256'

        import numpy  # noqa: PLC0415

        self.np = numpy

    # --- arrays of int64 lanes holding uint32 values
    def arange(self, count):
        if self.torch:
            return self.torch.arange(count, dtype=self.torch.int64, device=self.device)
        return self.np.arange(count, dtype=self.np.int64)

    def to_int8(self, values):
        """uint32 lanes (0..255 after masking) minus 128, as int8."""
        if self.torch:
            return (values - 128).to(self.torch.int8)
        return (values - 128).astype(self.np.int8)

    def matmul_abt(self, a, b):
        """C = A·Bᵀ, exact int32 (A, B int8, n×k)."""
        if self.torch:
            torch = self.torch
            n, k = a.shape
            if n > 16 and n % 8 == 0 and k % 8 == 0:
                # int8 tensor cores (cuBLASLt); the second operand column-major, as cuBLAS prefers, else row-major.
                for operand in (lambda: b.t(), lambda: b.t().contiguous()):
                    try:
                        return torch._int_mm(a, operand())
                    except RuntimeError:
                        pass
            return (a.to(torch.float64) @ b.to(torch.float64).t()).round().to(torch.int32)
        np = self.np
        return (a.astype(np.float64) @ b.astype(np.float64).T).round().astype(np.int32)

    def to_host_int32(self, values):
        if self.torch:
            return values.cpu().numpy()
        return values


def fmix32(h):
    """MurmurHash3's finaliser on uint32 lanes (held in int64)."""
    h = h ^ (h >> 16)
    h = (h * 0x85EBCA6B) & MASK
    h = h ^ (h >> 13)
    h = (h * 0xC2B2AE35) & MASK
    return h ^ (h >> 16)


def fmix32_int(h):
    h &= MASK
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK
    return h ^ (h >> 16)


def parse_seed(hex_seed):
    if not isinstance(hex_seed, str) or len(hex_seed) != 32 or any(c not in '0123456789abcdef' for c in hex_seed):
        raise ValueError('A challenge seed is 32 lower-case hex digits.')
    raw = bytes.fromhex(hex_seed)
    return tuple(int.from_bytes(raw[i : i + 4], 'big') for i in range(0, 16, 4))


def row_keys(be, seed, batch, which, rows):
    """Keys of rows 0..rows-1 of A (which=0) or B (which=1) in one batch, as challenge.ts's rowKey."""
    s0, s1, s2, s3 = seed
    ident = fmix32_int(((batch * 2 + which) * 0x9E3779B1) ^ s2)
    r = (be.arange(rows) + ident) & MASK
    return fmix32(s0 ^ fmix32(s1 ^ fmix32(r ^ s3)))


# Rows generated at a time: the int64 lanes of a whole 4096 × 32 768 matrix would take 1 GiB per temporary, and the GPU's
# memory is 90% VRAM table.
ROW_CHUNK_LANES = 1 << 23


def seeded_matrix(be, seed, batch, which, n, k):
    """Rows of A or B, int8 n×k: element t is byte t mod 4 of fmix32(key ^ (⌊t/4⌋+1)·0x85ebca6b), minus 128."""
    keys = row_keys(be, seed, batch, which, n)
    cols = be.arange(k)
    words = ((cols >> 2) + 1) * 0x85EBCA6B & MASK
    shifts = (cols & 3) * 8
    step = max(1, ROW_CHUNK_LANES // k)
    parts = [be.to_int8((fmix32(keys[start : start + step, None] ^ words[None, :]) >> shifts[None, :]) & 0xFF) for start in range(0, n, step)]
    if be.torch:
        return be.torch.cat(parts)
    return be.np.concatenate(parts)


# ---------------------------------------------------------------- SHA-256, vectorised over rows (GPU path)

_K = [
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
]
_H0 = [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19]


def _rotr(x, n):
    return ((x >> n) | (x << (32 - n))) & MASK


def sha256_words(words, blocks):
    """SHA-256 of many equal-length padded messages at once: `words` is a list of 16·blocks int64 lanes (big-endian
    message words, one lane per message); returns the 8 digest words, one lane per message."""
    h = [None] * 8
    first = True
    for block in range(blocks):
        w = list(words[block * 16 : block * 16 + 16])
        for t in range(16, 64):
            s0 = _rotr(w[t - 15], 7) ^ _rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
            s1 = _rotr(w[t - 2], 17) ^ _rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
            w.append((w[t - 16] + s0 + w[t - 7] + s1) & MASK)
        if first:
            a, b, c, d, e, f, g, hh = [w[0] * 0 + v for v in _H0]
            h = [a, b, c, d, e, f, g, hh]
            first = False
        a, b, c, d, e, f, g, hh = h
        for t in range(64):
            t1 = (hh + (_rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)) + ((e & f) ^ ((e ^ MASK) & g)) + _K[t] + w[t]) & MASK
            t2 = ((_rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) & MASK
            hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & MASK, c, b, a, (t1 + t2) & MASK
        h = [(x + y) & MASK for x, y in zip(h, [a, b, c, d, e, f, g, hh])]
    return h


# The same SHA-256 as one CUDA thread per message (CuPy RawKernel, compiled by NVRTC): the vectorised version above runs
# as hundreds of separate tensor operations per block, far too slow to keep up with an H100's GEMM. The source also
# compiles as C (IOCLI_HOST) so the tests check it against hashlib on a machine without a GPU.
SHA256_SOURCE = r"""
#ifdef IOCLI_HOST
#define DEVICE static inline
#define KCONST static const
#else
#define DEVICE __device__ __forceinline__
#define KCONST __constant__
#endif
KCONST unsigned int SHA_K[64] = {
  0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
  0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
  0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
  0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
  0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
  0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
  0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
  0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u};

DEVICE unsigned int sha_rotr(unsigned int x, int n) { return (x >> n) | (x << (32 - n)); }

/* SHA-256 of msg[0..len): padding generated on the fly, digest written big-endian to out[0..32). */
DEVICE void sha256_one(const unsigned char* msg, unsigned int len, unsigned char* out) {
  unsigned int h[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au, 0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
  unsigned int blocks = (len + 9 + 63) / 64;
  unsigned long long bits = (unsigned long long)len * 8ull;
  for (unsigned int b = 0; b < blocks; b++) {
    unsigned int w[64];
    for (int t = 0; t < 16; t++) {
      unsigned int word = 0;
      for (int j = 0; j < 4; j++) {
        unsigned long long pos = (unsigned long long)b * 64ull + (unsigned long long)(t * 4 + j);
        unsigned long long end = (unsigned long long)blocks * 64ull;
        unsigned int byte = 0;
        if (pos < len) byte = msg[pos];
        else if (pos == len) byte = 0x80u;
        else if (pos >= end - 8ull) byte = (unsigned int)((bits >> (8ull * (end - 1ull - pos))) & 0xffull);
        word = (word << 8) | byte;
      }
      w[t] = word;
    }
    for (int t = 16; t < 64; t++) {
      unsigned int s0 = sha_rotr(w[t - 15], 7) ^ sha_rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      unsigned int s1 = sha_rotr(w[t - 2], 17) ^ sha_rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    unsigned int a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int t = 0; t < 64; t++) {
      unsigned int t1 = hh + (sha_rotr(e, 6) ^ sha_rotr(e, 11) ^ sha_rotr(e, 25)) + ((e & f) ^ (~e & g)) + SHA_K[t] + w[t];
      unsigned int t2 = (sha_rotr(a, 2) ^ sha_rotr(a, 13) ^ sha_rotr(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
      hh = g; g = f; f = e; e = d + t1; d = c; c = bb; bb = a; a = t1 + t2;
    }
    h[0] += a; h[1] += bb; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  }
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (unsigned char)(h[i] >> 24);
    out[4 * i + 1] = (unsigned char)(h[i] >> 16);
    out[4 * i + 2] = (unsigned char)(h[i] >> 8);
    out[4 * i + 3] = (unsigned char)h[i];
  }
}

#ifdef IOCLI_HOST
void sha256_rows_host(const unsigned char* msgs, unsigned int len, unsigned int rows, unsigned char* out) {
  for (unsigned int i = 0; i < rows; i++) sha256_one(msgs + (unsigned long long)i * len, len, out + (unsigned long long)i * 32ull);
}
#else
extern "C" __global__ void sha256_rows(const unsigned char* msgs, unsigned int len, unsigned int rows, unsigned char* out) {
  unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < rows) sha256_one(msgs + (unsigned long long)i * len, len, out + (unsigned long long)i * 32ull);
}
#endif
"""


def cuda_sha_kernel():
    """The fused SHA-256 kernel through CuPy (None without CuPy: the vectorised tensor version is used, slowly)."""
    try:
        import cupy  # noqa: PLC0415 (optional: the GPU image installs it)

        return cupy, cupy.RawKernel(SHA256_SOURCE, 'sha256_rows')
    except Exception:  # noqa: BLE001 (no CuPy or no NVRTC: fall back)
        return None


def _padded_words(be, message_bytes):
    """Rows of equal-length byte messages (uint8, rows × length) → (list of big-endian word lanes, block count)."""
    if be.torch:
        torch = be.torch
        rows, length = message_bytes.shape
        total = ((length + 9 + 63) // 64) * 64
        padded = torch.zeros((rows, total), dtype=torch.int64, device=be.device)
        padded[:, :length] = message_bytes.to(torch.int64)
    else:
        np = be.np
        rows, length = message_bytes.shape
        total = ((length + 9 + 63) // 64) * 64
        padded = np.zeros((rows, total), dtype=np.int64)
        padded[:, :length] = message_bytes
    padded[:, length] = 0x80
    bit_length = length * 8
    for i in range(8):
        padded[:, total - 1 - i] = (bit_length >> (8 * i)) & 0xFF
    words = [(padded[:, j] << 24) | (padded[:, j + 1] << 16) | (padded[:, j + 2] << 8) | padded[:, j + 3] for j in range(0, total, 4)]
    return words, total // 64


def _digest_bytes(be, h):
    """8 digest word lanes → rows × 32 uint8."""
    if be.torch:
        torch = be.torch
        stacked = torch.stack(h, dim=1)
        shifts = torch.tensor([24, 16, 8, 0], dtype=torch.int64, device=be.device)
        return ((stacked[:, :, None] >> shifts) & 0xFF).reshape(stacked.shape[0], 32).to(torch.uint8)
    np = be.np
    stacked = np.stack(h, axis=1)
    return ((stacked[:, :, None] >> np.array([24, 16, 8, 0])) & 0xFF).reshape(stacked.shape[0], 32).astype(np.uint8)


def sha256_rows(be, message_bytes):
    """SHA-256 of each row of a rows × length uint8 array; rows × 32 uint8 back, on the same device."""
    if be.torch and be.sha_kernel:
        torch = be.torch
        cupy, kernel = be.sha_kernel
        rows, length = message_bytes.shape
        messages = message_bytes.contiguous()
        out = torch.empty((rows, 32), dtype=torch.uint8, device=be.device)
        threads = 256
        # Both libraries use the default stream: the kernel runs after the tensors are written, before they are read.
        kernel(((rows + threads - 1) // threads,), (threads,), (cupy.asarray(messages), be.np.uint32(length), be.np.uint32(rows), cupy.asarray(out)))
        return out
    words, blocks = _padded_words(be, message_bytes)
    return _digest_bytes(be, sha256_words(words, blocks))


# ---------------------------------------------------------------- commitment

class Hasher:
    """Leaf and inner hashes over rows × 32-byte digest arrays: vectorised SHA-256 on the GPU (and when asked, for tests),
    hashlib row by row on the CPU. Levels stay arrays on the device; only the openings' paths come back as bytes."""

    def __init__(self, be, vectorised):
        self.be = be
        self.vectorised = vectorised or be.torch is not None

    def leaves(self, product, first_leaf, leaf_entries):
        """Leaf hashes of a flat int32 product: SHA-256(0x00 ‖ uint32BE(index) ‖ entries as int32LE)."""
        be = self.be
        count = product.shape[0] // leaf_entries
        if self.vectorised:
            index = be.arange(count) + first_leaf
            if be.torch:
                torch = be.torch
                header = torch.stack([index * 0, (index >> 24) & 0xFF, (index >> 16) & 0xFF, (index >> 8) & 0xFF, index & 0xFF], dim=1).to(torch.uint8)
                body = product.contiguous().view(torch.uint8).reshape(count, leaf_entries * 4)
                return sha256_rows(be, torch.cat([header, body], dim=1))
            np = be.np
            header = np.stack([index * 0, (index >> 24) & 0xFF, (index >> 16) & 0xFF, (index >> 8) & 0xFF, index & 0xFF], axis=1).astype(np.uint8)
            body = np.ascontiguousarray(product).astype('<i4').view(np.uint8).reshape(count, leaf_entries * 4)
            return sha256_rows(be, np.concatenate([header, body], axis=1))
        raw = be.np.ascontiguousarray(product).astype('<i4').tobytes()
        step = leaf_entries * 4
        digests = b''.join(hashlib.sha256(b'\x00' + (first_leaf + i).to_bytes(4, 'big') + raw[i * step : (i + 1) * step]).digest() for i in range(count))
        return be.np.frombuffer(digests, dtype=be.np.uint8).reshape(count, 32)

    def level_above(self, level):
        """One Merkle level up: SHA-256(0x01 ‖ left ‖ right); an odd last node pairs with itself."""
        be = self.be
        if be.torch:
            torch = be.torch
            if level.shape[0] % 2:
                level = torch.cat([level, level[-1:]])
            pairs = level.reshape(-1, 64)
            return sha256_rows(be, torch.cat([torch.ones((pairs.shape[0], 1), dtype=torch.uint8, device=be.device), pairs], dim=1))
        np = be.np
        if level.shape[0] % 2:
            level = np.concatenate([level, level[-1:]])
        pairs = level.reshape(-1, 64)
        if self.vectorised:
            return sha256_rows(be, np.concatenate([np.ones((pairs.shape[0], 1), dtype=np.uint8), pairs], axis=1))
        digests = b''.join(hashlib.sha256(b'\x01' + row.tobytes()).digest() for row in pairs)
        return np.frombuffer(digests, dtype=np.uint8).reshape(pairs.shape[0], 32)

    def levels(self, leaves):
        levels = [leaves]
        while levels[-1].shape[0] > 1:
            levels.append(self.level_above(levels[-1]))
        return levels

    def stack(self, digests):
        """Batch roots (rows of 32) into one level."""
        if self.be.torch:
            return self.be.torch.cat(digests)
        return self.be.np.concatenate(digests)


def row_bytes(be, level, index):
    row = level[index]
    return bytes(row.cpu().numpy().tobytes()) if be.torch else row.tobytes()


def path_in(be, levels, index):
    path = []
    for level in levels[:-1]:
        sibling = index ^ 1
        path.append(row_bytes(be, level, sibling if sibling < level.shape[0] else index))
        index >>= 1
    return path


# ---------------------------------------------------------------- VRAM round (src/domain/vram.ts)

VRAM_CHUNK = 1 << 22


def vram_words(be, seed, start, count, rounds):
    """Words start..start+count-1 of the table: `rounds` chained fmix32 calls keyed by the seed, as vram.ts's vramWord."""
    s0, s1, s2, s3 = seed
    index = be.arange(count) + start
    v = fmix32((index & MASK) ^ s3) ^ fmix32((((index >> 32) + 0x6A09E667) & MASK) ^ s2)
    for r in range(rounds):
        v = fmix32(((v ^ s0) + (((r + 1) * 0x9E3779B1) & MASK) + s1) & MASK)
    return v


def valid_vram(p):
    keys = ('words', 'rounds', 'queries')
    return isinstance(p, dict) and all(isinstance(p.get(key), int) and p[key] > 0 for key in keys) and p['words'] <= 2**40 and p['rounds'] <= 1024


class VramTable:
    """The claimed memory, filled: allocated (and touched) whole first, so a GPU with less memory fails at once."""

    def __init__(self, be, seed, params):
        if not valid_vram(params):
            raise ValueError('Invalid VRAM parameters.')
        self.be = be
        words, rounds = params['words'], params['rounds']
        if be.torch:
            torch = be.torch
            self.table = torch.empty(words, dtype=torch.int32, device=be.device)
            self.table.zero_()
            for start in range(0, words, VRAM_CHUNK):
                count = min(VRAM_CHUNK, words - start)
                chunk = vram_words(be, seed, start, count, rounds)
                # int32 storage of uint32 words: the bits, reinterpreted on the way out.
                self.table[start : start + count] = (chunk - ((chunk >> 31) << 32)).to(torch.int32)
        else:
            np = be.np
            self.table = np.empty(words, dtype=np.uint32)
            self.table.fill(0)
            for start in range(0, words, VRAM_CHUNK):
                count = min(VRAM_CHUNK, words - start)
                self.table[start : start + count] = vram_words(be, seed, start, count, rounds).astype(np.uint32)
        self.words = words

    def lookup(self, indices):
        if not isinstance(indices, list) or any(not isinstance(i, int) or i < 0 or i >= self.words for i in indices):
            raise ValueError('VRAM queries must be word indices inside the table.')
        if self.be.torch:
            torch = self.be.torch
            picked = self.table[torch.tensor(indices, dtype=torch.int64, device=self.be.device)].to(torch.int64) & MASK
            return [int(v) for v in picked.cpu().tolist()]
        return [int(v) for v in self.table[indices]]


def valid_params(p):
    keys = ('n', 'k', 'batches', 'leafEntries', 'samples')
    if not isinstance(p, dict) or any(not isinstance(p.get(key), int) or p[key] <= 0 for key in keys):
        return False
    return p['k'] <= 131071 and p['n'] % p['leafEntries'] == 0 and p['batches'] * p['n'] * p['n'] <= 2**40


class Challenge:
    """One GPU's challenge: compute and commit, then open."""

    def __init__(self, be, hasher, seed_hex, params):
        if not valid_params(params):
            raise ValueError('Invalid challenge parameters.')
        self.be = be
        self.hasher = hasher
        self.seed = parse_seed(seed_hex)
        self.n, self.k, self.batches, self.leaf_entries = params['n'], params['k'], params['batches'], params['leafEntries']
        self.leaves_per_batch = self.n * self.n // self.leaf_entries
        # Per-batch subtrees are exactly the global tree's lower levels when each batch fills a power-of-two of leaves.
        self.per_batch = self.leaves_per_batch & (self.leaves_per_batch - 1) == 0
        self.keep = self.batches * self.n * self.n * 4 <= KEEP_PRODUCTS_BYTES
        if not self.per_batch and not self.keep:
            raise ValueError('Batches of a non-power-of-two leaf count must fit in memory.')
        self.products = {}
        self.batch_levels = {}

    def product(self, batch):
        if batch in self.products:
            return self.products[batch]
        a = seeded_matrix(self.be, self.seed, batch, 0, self.n, self.k)
        b = seeded_matrix(self.be, self.seed, batch, 1, self.n, self.k)
        c = self.be.matmul_abt(a, b).reshape(-1)
        if self.keep:
            self.products[batch] = c
        return c

    def commit(self):
        if self.per_batch:
            roots = []
            for batch in range(self.batches):
                levels = self.hasher.levels(self.hasher.leaves(self.product(batch), batch * self.leaves_per_batch, self.leaf_entries))
                if self.keep:
                    self.batch_levels[batch] = levels
                roots.append(levels[-1])
            self.top = self.hasher.levels(self.hasher.stack(roots))
        else:
            leaves = [self.hasher.leaves(self.product(batch), batch * self.leaves_per_batch, self.leaf_entries) for batch in range(self.batches)]
            self.top = self.hasher.levels(self.hasher.stack(leaves))
        return row_bytes(self.be, self.top[-1], 0)

    def open(self, entry):
        nn = self.n * self.n
        if not isinstance(entry, int) or entry < 0 or entry >= self.batches * nn:
            raise ValueError(f'Entry {entry!r} is outside the challenge.')
        batch, within = divmod(entry, nn)
        leaf_in_batch = within // self.leaf_entries
        leaf_index = batch * self.leaves_per_batch + leaf_in_batch
        product = self.be.to_host_int32(self.product(batch))
        leaf = [int(v) for v in product[leaf_in_batch * self.leaf_entries : (leaf_in_batch + 1) * self.leaf_entries]]
        if self.per_batch:
            levels = self.batch_levels[batch] if batch in self.batch_levels else self.hasher.levels(self.hasher.leaves(self.product(batch), batch * self.leaves_per_batch, self.leaf_entries))
            path = path_in(self.be, levels, leaf_in_batch) + path_in(self.be, self.top, batch)
        else:
            path = path_in(self.be, self.top, leaf_index)
        return {'entry': entry, 'leaf': leaf, 'path': [base64.b64encode(h).decode('ascii') for h in path]}


def main(argv):
    force = 'numpy' if '--numpy' in argv else None
    be = Backend(force)
    hasher = Hasher(be, vectorised='--vector-hash' in argv)
    out = sys.stdout
    try:
        request = json.loads(sys.stdin.readline() or 'null')
        if not isinstance(request, dict):
            raise ValueError('Expected a challenge line {"seed", "params"}.')
        started = time.perf_counter()
        challenge = Challenge(be, hasher, request.get('seed'), request.get('params'))
        vram = VramTable(be, challenge.seed, request['vram']) if request.get('vram') is not None else None
        root = challenge.commit()
        compute_ms = round((time.perf_counter() - started) * 1000)
        out.write(json.dumps({'root': base64.b64encode(root).decode('ascii'), 'backend': be.name, 'computeMs': compute_ms}) + '\n')
        out.flush()
        # Then any number of requests, one line each, until stdin closes.
        for line in sys.stdin:
            ask = json.loads(line)
            if isinstance(ask, dict) and 'vram' in ask:
                if vram is None:
                    raise ValueError('This challenge has no VRAM round.')
                out.write(json.dumps({'vram': vram.lookup(ask['vram'])}) + '\n')
            elif isinstance(ask, dict) and isinstance(ask.get('samples'), list):
                out.write(json.dumps({'openings': [challenge.open(entry) for entry in ask['samples']]}) + '\n')
            else:
                raise ValueError('Expected {"samples": [...]} or {"vram": [...]}.')
            out.flush()
        return 0
    except Exception as error:  # noqa: BLE001 (every failure becomes one error line for the agent)
        out.write(json.dumps({'error': f'{type(error).__name__}: {error}'}) + '\n')
        out.flush()
        return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
