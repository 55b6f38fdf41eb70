#!/usr/bin/env bash
# A/B: OpenBLAS's own choice (OPENBLAS_CORETYPE=Prescott keeps it) against spikefuse's correction, alternating.
w=build/bench/spikefuse_worker
for r in 1 2 3; do
  for side in detected corrected; do
    for spec in "mlp ottt 128 6" "mlp sltt 128 6" "csnn ottt 64 4" "csnn sltt 64 4" "vgg11ws ottt 4 6" "resnet18 sltt 4 6"; do
      set -- $spec
      if [ $side = detected ]; then env OPENBLAS_CORETYPE=Prescott $w --workload $1 --rule $2 --batch $3 --T $4 --reps 10 --warmup 2
      else env -u OPENBLAS_CORETYPE $w --workload $1 --rule $2 --batch $3 --T $4 --reps 10 --warmup 2; fi | python3 -c "import json,sys; d=json.load(sys.stdin); d['round']=$r; d['side']='$side'; print(json.dumps(d))"
    done
  done
done
