#!/usr/bin/python3
"""The PyTorch peer of `npm run bench -- peers`: the CNN-6 in PyTorch's own layers.

    Conv2d(1,32,3,p=1)-BN-ReLU, Conv2d(32,32,3,p=1)-BN-ReLU, MaxPool2,
    Conv2d(32,64,3,p=1)-BN-ReLU, Conv2d(64,64,3,p=1)-BN-ReLU, MaxPool2,
    Flatten, Linear(3136,512)-BN-ReLU, Linear(512,10)        (19.9 M MAC per image)

Modes (run with the Debian interpreter, /usr/bin/python3; see bench/README.md):

  export  Build the net with a fixed torch seed, train it briefly on MNIST (Adam,
          batch 64, one pass over at most --steps batches or --max-seconds, one
          thread), then write into --cache: cnn6.onnx (opset 13, dynamic batch,
          input NCHW [N,1,28,28] float32 in [0,1], output logits), cnn6.pt (the
          same weights), test_x.npy (float32 [10000,1,28,28]), test_y.npy (int32
          [10000]) and meta.json.
  run     Load cnn6.pt and time inference on the test digits, noiseless and with
          the paper's multiplicative noise after every MVM, at batch 256 and 1, on
          1 and 2 threads; prints one JSON line per configuration.
  serve   The same model behind a JSON-lines protocol on stdin/stdout, so the
          TypeScript harness can interleave PyTorch with ohmic in one run (one
          request = one timed slice; see handle()).

Noise: y = (W x) * (1 + sigma * eps) + b, eps ~ N(0, 1) drawn fresh per element
(torch.randn_like), on every conv / linear product before its bias and the BN. This
is ohmic's signal-level semantics (compile.ts runSignal: noise on every MVM output
before the digital bias add); as the bias and the BN are affine, it is also the
same whether or not an exporter folds the BN into the convolution.
"""
import os

# OpenBLAS (which torch's Linear calls) keeps its own pthread pool, whose idle
# threads spin for ~0.1 s after each call (the default timeout, 2^28 cycles) and so
# steal a core from the OpenMP threads of the next convolution: on 2 cores that
# halved the 2-thread rate. 2^4 cycles lets them sleep at once. Read when the
# library loads, so it must be set before numpy and torch are imported.
os.environ.setdefault('OPENBLAS_THREAD_TIMEOUT', '4')

import argparse
import ctypes
import gzip
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_CACHE = os.path.join(REPO, 'bench', '.cache', 'peers')
DEFAULT_DATA = [os.path.join(os.path.dirname(REPO), 'shared', 'datasets', 'mnist'), os.path.join(REPO, 'data', 'mnist')]
SEED = 20240601
OPSET = 13


class Cnn6(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.b1 = nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.c2, self.b2 = nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.c3, self.b3 = nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64)
        self.c4, self.b4 = nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64)
        self.f1, self.b5 = nn.Linear(3136, 512), nn.BatchNorm1d(512)
        self.f2 = nn.Linear(512, 10)
        self.sigma = 0.0

    def mvm(self, layer, x):
        """One MVM layer; with sigma > 0 the product gets fresh multiplicative noise before the bias."""
        if self.sigma == 0.0:
            return layer(x)
        if isinstance(layer, nn.Conv2d):
            y = F.conv2d(x, layer.weight, None, layer.stride, layer.padding)
            bias = layer.bias.view(1, -1, 1, 1)
        else:
            y = F.linear(x, layer.weight)
            bias = layer.bias
        return torch.addcmul(y, y, torch.randn_like(y), value=self.sigma) + bias

    def forward(self, x):
        x = F.relu(self.b1(self.mvm(self.c1, x)))
        x = F.max_pool2d(F.relu(self.b2(self.mvm(self.c2, x))), 2)
        x = F.relu(self.b3(self.mvm(self.c3, x)))
        x = F.max_pool2d(F.relu(self.b4(self.mvm(self.c4, x))), 2)
        x = torch.flatten(x, 1)
        x = F.relu(self.b5(self.mvm(self.f1, x)))
        return self.mvm(self.f2, x)


def macs_per_image():
    """Multiply-accumulates of the six MVM layers for one 28x28 digit."""
    convs = [(28 * 28, 1 * 9, 32), (28 * 28, 32 * 9, 32), (14 * 14, 32 * 9, 64), (14 * 14, 64 * 9, 64)]
    return sum(p * k * c for p, k, c in convs) + 3136 * 512 + 512 * 10


# --- threads -----------------------------------------------------------------

def _openblas():
    """The OpenBLAS the process loaded (torch's Linear calls it), or None."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if 'blas' in line and '/' in line}
    except OSError:
        return None
    for lib in sorted(libs):
        try:
            handle = ctypes.CDLL(lib)
            if hasattr(handle, 'openblas_set_num_threads'):
                return handle
        except OSError:
            pass
    return None


_BLAS = None


def set_threads(n):
    """Intra-op threads of torch (OpenMP, oneDNN) and of the BLAS it calls (its own pthread pool)."""
    global _BLAS
    torch.set_num_threads(n)
    if _BLAS is None:
        _BLAS = _openblas() or False
    if _BLAS:
        _BLAS.openblas_set_num_threads(n)


# --- data --------------------------------------------------------------------

def find_idx(name, dirs):
    for d in dirs:
        for candidate in (os.path.join(d, name + '.gz'), os.path.join(d, name)):
            if os.path.exists(candidate):
                return candidate
    raise SystemExit(f'cnn6_torch.py: cannot find {name}(.gz) in {", ".join(dirs)}')


def read_idx(path):
    raw = gzip.open(path, 'rb').read() if path.endswith('.gz') else open(path, 'rb').read()
    magic = int.from_bytes(raw[0:4], 'big')
    count = int.from_bytes(raw[4:8], 'big')
    if magic == 2051:
        rows, cols = int.from_bytes(raw[8:12], 'big'), int.from_bytes(raw[12:16], 'big')
        return np.frombuffer(raw, np.uint8, count * rows * cols, 16).reshape(count, 1, rows, cols)
    if magic == 2049:
        return np.frombuffer(raw, np.uint8, count, 8)
    raise SystemExit(f'cnn6_torch.py: {path} is not an IDX file (magic {magic})')


def load_split(split, dirs):
    stem = 'train' if split == 'train' else 't10k'
    x = read_idx(find_idx(f'{stem}-images-idx3-ubyte', dirs)).astype(np.float32) / 255.0
    y = read_idx(find_idx(f'{stem}-labels-idx1-ubyte', dirs)).astype(np.int64)
    return x, y


# --- export ------------------------------------------------------------------

def evaluate(model, x, y, batch=500):
    model.eval()
    correct = 0
    with torch.inference_mode():
        for s in range(0, len(x), batch):
            correct += int((model(x[s:s + batch]).argmax(1) == y[s:s + batch]).sum())
    return correct / len(x)


def export(args):
    dirs = [args.data] if args.data else DEFAULT_DATA
    os.makedirs(args.cache, exist_ok=True)
    set_threads(args.threads)
    torch.manual_seed(SEED)
    model = Cnn6()
    xtr, ytr = load_split('train', dirs)
    xte, yte = load_split('test', dirs)
    xtr, ytr = torch.from_numpy(xtr), torch.from_numpy(ytr)
    order = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(SEED))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    t0 = time.perf_counter()
    steps = 0
    for steps in range(1, args.steps + 1):
        idx = order[(steps - 1) * args.batch:steps * args.batch]
        if len(idx) == 0:
            break
        loss = F.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if steps % 100 == 0:
            print(f'cnn6_torch.py: step {steps}, loss {loss.item():.4f}, {time.perf_counter() - t0:.0f} s', file=sys.stderr)
        if time.perf_counter() - t0 > args.max_seconds:
            break
    train_s = time.perf_counter() - t0
    acc = evaluate(model, torch.from_numpy(xte), torch.from_numpy(yte))
    print(f'cnn6_torch.py: trained {steps} steps of {args.batch} in {train_s:.0f} s; test accuracy {acc * 100:.2f} %', file=sys.stderr)
    if acc < 0.97:
        print('cnn6_torch.py: warning: test accuracy below 97 %; raise --steps or --max-seconds', file=sys.stderr)

    model.eval()
    torch.save(model.state_dict(), os.path.join(args.cache, 'cnn6.pt'))
    onnx_path = os.path.join(args.cache, 'cnn6.onnx')
    torch.onnx.export(
        model, torch.zeros(1, 1, 28, 28), onnx_path, opset_version=OPSET,
        input_names=['input'], output_names=['logits'],
        dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}},
    )
    np.save(os.path.join(args.cache, 'test_x.npy'), np.ascontiguousarray(xte, dtype=np.float32))
    np.save(os.path.join(args.cache, 'test_y.npy'), yte.astype(np.int32))
    meta = {
        'model': 'cnn6-pytorch', 'seed': SEED, 'opset': OPSET, 'torch': torch.__version__,
        'train_steps': steps, 'train_batch': args.batch, 'train_seconds': round(train_s, 1),
        'train_threads': args.threads, 'test_accuracy': acc, 'macs_per_image': macs_per_image(),
        'data': dirs,
    }
    with open(os.path.join(args.cache, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    print(json.dumps({'exported': onnx_path, **meta}))


# --- inference ---------------------------------------------------------------

class Peer:
    def __init__(self, cache):
        self.model = Cnn6()
        self.model.load_state_dict(torch.load(os.path.join(cache, 'cnn6.pt')))
        self.model.eval()
        self.x = torch.from_numpy(np.load(os.path.join(cache, 'test_x.npy')))
        self.y = torch.from_numpy(np.load(os.path.join(cache, 'test_y.npy')).astype(np.int64))

    def handle(self, req):
        """Time `count` digits from `start` in batches of `batch`.

        Request: {"mode": "noiseless"|"signal", "threads": n, "batch": b, "start": s,
        "count": c, "sigma": 0.4, "seed": k, "preds": bool, "logits": bool}.
        Reply: {"seconds": timed inference only, "count", "correct", "preds"?, "logits"?}.
        """
        set_threads(int(req.get('threads', 1)))
        self.model.sigma = float(req.get('sigma', 0.4)) if req.get('mode') == 'signal' else 0.0
        torch.manual_seed(int(req.get('seed', 0)))
        start, count, batch = int(req.get('start', 0)), int(req['count']), int(req.get('batch', 256))
        x, y = self.x[start:start + count], self.y[start:start + count]
        preds, logits = [], []
        correct = 0
        with torch.inference_mode():
            t0 = time.perf_counter()
            for s in range(0, len(x), batch):
                out = self.model(x[s:s + batch])
                p = out.argmax(1)
                correct += int((p == y[s:s + batch]).sum())
                if req.get('preds'):
                    preds.append(p)
                if req.get('logits'):
                    logits.append(out)
            seconds = time.perf_counter() - t0
        reply = {'seconds': seconds, 'count': len(x), 'correct': correct}
        if preds:
            reply['preds'] = torch.cat(preds).tolist()
        if logits:
            reply['logits'] = torch.cat(logits).flatten().tolist()
        return reply


def run(args):
    peer = Peer(args.cache)
    n = min(args.count, len(peer.x))
    n1 = min(args.batch1_count, n)
    for threads in [int(t) for t in args.threads_list.split(',')]:
        for mode in ('noiseless', 'signal'):
            for batch, count in ((256, n), (1, n1)):
                peer.handle({'mode': mode, 'threads': threads, 'batch': batch, 'count': min(count, batch * 2), 'sigma': args.sigma})
                r = peer.handle({'mode': mode, 'threads': threads, 'batch': batch, 'count': count, 'sigma': args.sigma, 'seed': 1})
                print(json.dumps({
                    'engine': 'pytorch', 'torch': torch.__version__, 'mode': mode, 'sigma': args.sigma if mode == 'signal' else 0,
                    'threads': threads, 'batch': batch, 'images': r['count'], 'seconds': round(r['seconds'], 4),
                    'images_per_s': round(r['count'] / r['seconds'], 2), 'accuracy': r['correct'] / r['count'],
                }), flush=True)


def serve(args):
    peer = Peer(args.cache)
    print(json.dumps({'ready': True, 'torch': torch.__version__, 'count': len(peer.x), 'macs_per_image': macs_per_image()}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            reply = peer.handle(json.loads(line))
        except Exception as err:  # reported to the harness, which fails the run
            reply = {'error': f'{type(err).__name__}: {err}'}
        print(json.dumps(reply), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('mode', choices=['export', 'run', 'serve'])
    p.add_argument('--cache', default=DEFAULT_CACHE)
    p.add_argument('--data', help='folder with the MNIST IDX files (default ../shared/datasets/mnist)')
    p.add_argument('--steps', type=int, default=600, help='export: training steps (batch --batch)')
    p.add_argument('--batch', type=int, default=64, help='export: training batch')
    p.add_argument('--max-seconds', type=float, default=170, help='export: stop training after this long')
    p.add_argument('--threads', type=int, default=1, help='export: training threads')
    p.add_argument('--threads-list', default='1,2', help='run: thread counts')
    p.add_argument('--count', type=int, default=10000, help='run: test digits at batch 256')
    p.add_argument('--batch1-count', type=int, default=1000, help='run: test digits at batch 1')
    p.add_argument('--sigma', type=float, default=0.4, help='run: multiplicative noise sigma')
    args = p.parse_args()
    torch.set_num_interop_threads(1)
    {'export': export, 'run': run, 'serve': serve}[args.mode](args)


if __name__ == '__main__':
    main()
