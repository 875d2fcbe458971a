"""Rewrite a bf16 whisper ggml file with its token embedding in q8_0 or q4_0 (experiment only).

Usage: mix_token_embedding.py BF16_FILE F16_FILE OUT q8_0|q4_0   (values come from the f16 file;
needs numpy). Only whisper.cpp with whisper.patch loads the result.
"""
import struct, sys, numpy as np
src_bf16, src_f16, out, qtype = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
def parse(path):
    b = open(path, 'rb').read()
    o = 4 + 11*4
    n_mel, n_fft = struct.unpack_from('<ii', b, o); o += 8 + n_mel*n_fft*4
    (n_vocab,) = struct.unpack_from('<i', b, o); o += 4
    for _ in range(n_vocab):
        (l,) = struct.unpack_from('<i', b, o); o += 4 + l
    head = b[:o]
    tensors = []
    while o < len(b):
        n_dims, length, ttype = struct.unpack_from('<iii', b, o); o += 12
        ne = struct.unpack_from('<' + 'i'*n_dims, b, o); o += 4*n_dims
        name = b[o:o+length].decode(); o += length
        n = int(np.prod(ne))
        size = {0: 4*n, 1: 2*n, 30: 2*n}[ttype]
        tensors.append((name, ttype, ne, b[o:o+size])); o += size
    return head, tensors
head, tb = parse(src_bf16)
_, tf = parse(src_f16)
f16 = dict((t[0], t) for t in tf)
with open(out, 'wb') as w:
    w.write(head)
    for name, ttype, ne, data in tb:
        if name == 'decoder.token_embedding.weight':
            x = np.frombuffer(f16[name][3], np.float16).astype(np.float32).reshape(-1, 32)
            if qtype == 'q8_0':
                amax = np.abs(x).max(1)
                d = amax / 127.0
                idv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1), 0)
                q = np.round(x * idv[:, None]).astype(np.int8)
                blocks = np.zeros(len(x), dtype=[('d', '<f2'), ('q', 'i1', 32)])
                blocks['d'] = d.astype(np.float16); blocks['q'] = q
                ttype, data = 8, blocks.tobytes()
            if qtype == 'q4_0':
                idx = np.abs(x).argmax(1)
                mx = x[np.arange(len(x)), idx]
                d = mx / -8.0
                idv = np.where(d != 0, 1.0 / np.where(d != 0, d, 1), 0)
                q = np.minimum(15, (x * idv[:, None] + 8.5).astype(np.int8)).astype(np.uint8)
                qs = (q[:, :16] | (q[:, 16:] << 4)).astype(np.uint8)
                blocks = np.zeros(len(x), dtype=[('d', '<f2'), ('q', 'u1', 16)])
                blocks['d'] = d.astype(np.float16); blocks['q'] = qs
                ttype, data = 2, blocks.tobytes()
            print(name, ttype, len(data))
        w.write(struct.pack('<iii', len(ne), len(name.encode()), ttype))
        w.write(struct.pack('<' + 'i'*len(ne), *ne))
        w.write(name.encode()); w.write(data)
