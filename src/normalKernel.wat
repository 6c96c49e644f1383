;; The hot loop of Rng.fillNormal as WebAssembly: xoshiro128** and the 256-layer
;; ziggurat's rectangle test, bit for bit what the JavaScript loop in rng.ts computes.
;; JavaScript keeps everything else (tables, the wedge and tail draws, chunking).
;; Built into normalKernelWasm.ts by `npm run build:kernels` (wabt); a test checks
;; that the embedded bytes are this file's.
;;
;; Memory (one page), byte offsets:
;;   0      state: s0 s1 s2 s3 (i32)
;;   64     kn: 256 × i32, the rectangle bound ceil(KN[iz]) (|j| < KN ⇔ |j| < ceil(KN))
;;   1088   wn: 256 × f64, the layer widths times std
;;   3136   out: 4096 × f32
;;   19520  missedAt: 4096 × i32, indices of draws that missed their rectangle
;;   35904  missedDraw: 4096 × i32, those draws
(module
  (memory (export "memory") 1)
  (func (export "fill") (param $n i32) (param $mean f64) (result i32)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $s3 i32)
    (local $i i32) (local $r i32) (local $hz i32) (local $t i32)
    (local $iz i32) (local $j i32) (local $sign i32) (local $missed i32)
    (local.set $s0 (i32.load (i32.const 0)))
    (local.set $s1 (i32.load (i32.const 4)))
    (local.set $s2 (i32.load (i32.const 8)))
    (local.set $s3 (i32.load (i32.const 12)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        ;; xoshiro128**: result = rotl(s1 * 5, 7) * 9, then the state update.
        (local.set $r (i32.mul (local.get $s1) (i32.const 5)))
        (local.set $hz (i32.mul (i32.rotl (local.get $r) (i32.const 7)) (i32.const 9)))
        (local.set $t (i32.shl (local.get $s1) (i32.const 9)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $s0)))
        (local.set $s3 (i32.xor (local.get $s3) (local.get $s1)))
        (local.set $s1 (i32.xor (local.get $s1) (local.get $s2)))
        (local.set $s0 (i32.xor (local.get $s0) (local.get $s3)))
        (local.set $s2 (i32.xor (local.get $s2) (local.get $t)))
        (local.set $s3 (i32.rotl (local.get $s3) (i32.const 11)))
        ;; Layer from the low 8 bits, signed 24-bit value from the high 24.
        (local.set $iz (i32.and (local.get $hz) (i32.const 255)))
        (local.set $j (i32.shr_s (local.get $hz) (i32.const 8)))
        (local.set $sign (i32.shr_s (local.get $j) (i32.const 31)))
        (if (i32.lt_s
              (i32.sub (i32.xor (local.get $j) (local.get $sign)) (local.get $sign))
              (i32.load offset=64 (i32.shl (local.get $iz) (i32.const 2))))
          (then
            ;; out[i] = f32(mean + j * wn[iz]), the product and sum in f64 as in JS.
            (f32.store offset=3136 (i32.shl (local.get $i) (i32.const 2))
              (f32.demote_f64
                (f64.add (local.get $mean)
                  (f64.mul (f64.convert_i32_s (local.get $j))
                    (f64.load offset=1088 (i32.shl (local.get $iz) (i32.const 3))))))))
          (else
            (i32.store offset=19520 (i32.shl (local.get $missed) (i32.const 2)) (local.get $i))
            (i32.store offset=35904 (i32.shl (local.get $missed) (i32.const 2)) (local.get $hz))
            (local.set $missed (i32.add (local.get $missed) (i32.const 1)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.store (i32.const 0) (local.get $s0))
    (i32.store (i32.const 4) (local.get $s1))
    (i32.store (i32.const 8) (local.get $s2))
    (i32.store (i32.const 12) (local.get $s3))
    (local.get $missed)))
