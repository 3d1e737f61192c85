"""The model card's lever sections (issue 20): each lever run's prose and PublicTest table. Prose lives
here; numbers come from the JSON files."""

from __future__ import annotations

import json
from pathlib import Path

from .predictor import WEIGHTS_DIR


# What each candidate in the lever table is (its run's recipe is in the Reproduce commands or below).
LEVERS_PROSE = [
    "Issue 20's levers, tried on 2026-12-02 on a 2-core Intel Xeon with AMX (no GPU lent). Training "
    "itself got faster first (`python -m bench.bench_training`, same run, load ~3): augmenting whole "
    "batches in the graph instead of one image at a time in NumPy, and bfloat16 compute where the CPU "
    "has AMX/AVX512-BF16 (float32 elsewhere, chosen from the CPU flags), took a 64-face step from "
    "624 ms to 257 ms (2.43x), and 190 ms (3.29x) on 40x40 crops.",
    "",
    "- `mien_vgg_50ep_48px`: the shipped model (the two stages in Reproduce).",
    "- `crop40_warm20`: the shipped weights warm-restarted for 20 epochs on random 40x40 crops (the "
    "FER2013 records' recipe; same augmentation, AdamW with a cosine schedule from 1e-3, bfloat16), "
    "served on 1, 2, 5 or 10 views (centre, corners, mirrors). Command: `python -m "
    "recommender.emotion.train --arch mien_vgg --epochs 20 --run-name crop40_warm20 --init-from "
    "runs/init/mien_vgg_50ep.keras --no-equalize --learning-rate 1e-3 --crop 40`; best epoch 17 "
    "(66.87% on the centre crop), 33 min of training.",
    "- `a+b`: the two models' probabilities averaged (latency added: one thread).",
    "",
    "Measured with `python -m recommender.emotion.choose --candidate mien_vgg_50ep_48px=... --candidate "
    "crop40_warm20=... --out recommender/emotion/weights/emotion_model.levers.json`. The crop restart "
    "did not beat the shipped model (67.34% with ten crops against 68.07%), so it was not shipped and "
    "PrivateTest was not evaluated for it. The pair scores 68.40% but costs 12.5 ms, over the 10 ms "
    "budget. Not run then: mixup (`--mixup`) and the FER+ vote blend (`--ferplus`), both built and "
    "tested, and a long from-scratch crop schedule; each needs hours of this CPU or a GPU session (the "
    "FER+ blend was run on 2026-12-07, below).",
]

LEVERS_PATH = WEIGHTS_DIR / "emotion_model.levers.json"
FERPLUS_LEVERS_PATH = WEIGHTS_DIR / "emotion_model.levers.2026-12-07.json"
FERPLUS_LEVERS_PROSE = [
    "The FER+ vote blend, tried on 2026-12-07 on a 2-core AMD EPYC without AVX-512 (so float32 training; "
    "no GPU lent), sharing the cores with the lyrics work:",
    "",
    "- `ferplus_warm8`: the shipped weights warm-restarted for 8 epochs on 48x48 faces with FER+'s vote "
    "distribution blended into the targets at 0.4 (instead of label smoothing; the 86 training rows with "
    "under 4 votes for the seven classes dropped), AdamW with a cosine schedule from 5e-4, float32. Command: "
    "`python -m recommender.emotion.train --arch mien_vgg --epochs 8 --run-name ferplus_warm8 --init-from "
    "runs/init/mien_vgg_50ep.keras --no-equalize --learning-rate 5e-4 --ferplus 0.4`; best epoch 7 (67.29% "
    "on one view), 91 min of training.",
    "",
    "Measured with `python -m recommender.emotion.choose --candidate mien_vgg_50ep_48px=recommender/emotion/"
    "weights/emotion_model.keras --candidate ferplus_warm8=runs/ferplus_warm8/best.keras --out "
    "recommender/emotion/weights/emotion_model.levers.2026-12-07.json`. The blend did not beat the shipped "
    "model (67.29% against 68.07%), so it was not shipped and PrivateTest was not evaluated for it. On one view "
    "its accuracy is level with the shipped model's (67.29% against 67.43%) but its macro recall is a point "
    "lower (64.66% against 65.67%): the votes pull the net towards FER+'s own labels, whose majority "
    "matches FER2013's on only 63% of rows. Averaged with the shipped model it adds 0.6 points (68.65%, 2+1 "
    "views) at 13.4 ms, over the budget; the pair that fits nearly (1+1, 10.4 ms) only ties the shipped model.",
]
MIXUP_LEVERS_PATH = WEIGHTS_DIR / "emotion_model.levers.2026-12-07-mixup.json"
MIXUP_LEVERS_PROSE = [
    "Mixup, tried later on 2026-12-07 on the same 2-core AMD EPYC (float32; no GPU lent), sharing the "
    "cores with the test suite for part of the run:",
    "",
    "- `mixup_warm6`: the 50-epoch model's weights warm-restarted for 6 epochs with mixup (each batch's "
    "faces and targets blended with a shuffled partner, lambda ~ Beta(0.2, 0.2); label smoothing kept), "
    "AdamW with a cosine schedule from 3e-4, float32. Command: `python -m recommender.emotion.train --arch "
    "mien_vgg --epochs 6 --run-name mixup_warm6 --init-from runs/init/mien_vgg_50ep.keras --no-equalize "
    "--learning-rate 3e-4 --mixup 0.2`; best epoch 5 (67.34% on one view), 75 min of training.",
    "",
    "Measured with `python -m recommender.emotion.choose --candidate mien_vgg_50ep_48px=recommender/emotion/"
    "weights/emotion_model.keras --candidate mixup_warm6=runs/mixup_warm6/best.keras --out "
    "recommender/emotion/weights/emotion_model.levers.2026-12-07-mixup.json`, run before the export, while "
    "that path still held the 50-epoch weights (`git show 53ff101:recommender/emotion/weights/"
    "emotion_model.keras`), every candidate through "
    "LiteRT, the runtime the model is served on since that day (so these latencies are lower than the "
    "TensorFlow ones in the tables above). On one view mixup trails the 50-epoch model (67.34% against "
    "67.43%), but with its mirror image it leads (68.40% against 68.07%), and its macro recall is a point "
    "higher on both (66.75% against 65.71% on two views): the mixed targets make it less sure of itself, "
    "which averages better. It fits the budget (7.9 ms), so it is the shipped model now (exported with "
    "`--resume --export`), and PrivateTest was evaluated once for it (Results): 70.05% (2,514 of 3,589 faces) "
    "against the previous model's 70.19% (2,519), macro recall 69.77% against 69.94%. The PublicTest gain "
    "(12 faces) did not carry over; five faces either way is well inside the noise of one split (a standard "
    "error of 0.8 points). The choice stands, because it was made on PublicTest: going back on PrivateTest's "
    "word would be choosing on it. The pairs that add a point "
    "more cost 11.6-15.1 ms, over the budget; the one that fits (1+1, 8.3 ms) scores 67.68%.",
]
DISTIL_LEVERS_PATH = WEIGHTS_DIR / "emotion_model.levers.2026-12-07-distil.json"
DISTIL_LEVERS_PROSE = [
    "An independent second model, the ensembles it allows and a distilled student, tried in the evening of "
    "2026-12-07 on a 2-core Intel Xeon with AMX (bfloat16 training, about 2 min an epoch; no GPU lent):",
    "",
    "- `mixup_seed2027`: a new mien_vgg from scratch, 36 epochs with mixup (Beta(0.2, 0.2)) and label "
    "smoothing 0.1, AdamW with a cosine schedule from 2e-3 after one warm-up epoch, seed 2027 (the shipped "
    "model's lineage used 1234). Command: `python -m recommender.emotion.train --arch mien_vgg --epochs 36 "
    "--run-name mixup_seed2027_36ep --no-equalize --mixup 0.2 --seed 2027`; best epoch 32 (65.53% on one "
    "view), 75 min of training. It ends under-fitted (63% training accuracy on mixed batches): 36 epochs are "
    "short of the 56 the shipped lineage had.",
    "- `distil3_warm6`: the shipped weights warm-restarted for 6 epochs on targets half the smoothed label, half "
    "the mean prediction of three teachers (`mien_vgg_50ep`, `mixup_warm6`, `mixup_seed2027`, below), mixup "
    "kept, AdamW cosine from 3e-4. Command: `python -m recommender.emotion.train --arch mien_vgg --epochs 6 "
    "--run-name distil3_warm6 --init-from runs/members/mixup_warm6.keras --no-equalize --learning-rate 3e-4 "
    "--mixup 0.2 --distil mien_vgg_50ep mixup_warm6 mixup_seed2027 --distil-weight 0.5`; best epoch 6 "
    "(67.29% on one view), 12 min of training.",
    "- `a+b(+c)`: ensembles of up to three, each member on 1 or 2 views (`--members 3`).",
    "",
    "Measured with `python -m recommender.emotion.choose --candidate mixup_warm6=runs/members/mixup_warm6.keras "
    "--candidate mixup_seed2027=runs/mixup_seed2027_36ep/best.keras --candidate "
    "distil3_warm6=runs/distil3_warm6/best.keras --members 3 --out recommender/emotion/weights/"
    "emotion_model.levers.2026-12-07-distil.json` (`runs/members/mixup_warm6.keras` is the shipped model). "
    "Nothing beat the shipped model: the best ensemble, with the student, scores 68.21% against its 68.40%, "
    "and the student alone 67.65%. The teachers it learnt from were no better together than the best of them "
    "(68.38% for all three, below), so there was little above the shipped model to distil. Nothing was "
    "shipped and PrivateTest was not evaluated. This Xeon serves the two views in 4.7 ms through LiteRT (the "
    "AMD EPYC above: 7.9 ms), so a three-member ensemble now fits the budget; what it lacks is members as "
    "good as the shipped model and less alike.",
]
SEED_LEVERS_PATH = WEIGHTS_DIR / "emotion_model.levers.2026-12-07-seed.json"
SEED_LEVERS_PROSE = [
    "The independent model, trained further (same evening, same Xeon):",
    "",
    "- `mixup_seed2027_48ep`: `mixup_seed2027` warm-restarted for 12 more epochs (mixup kept, AdamW cosine from "
    "1e-3; 48 epochs in all). Command: `python -m recommender.emotion.train --arch mien_vgg --epochs 12 "
    "--run-name seed2027_warm12 --init-from runs/members/seed2027/emotion_model.keras --no-equalize "
    "--learning-rate 1e-3 --mixup 0.2 --seed 2027` (the first stage exported there with `train.export(..., "
    "weights_dir=Path('runs/members/seed2027'))`); best epoch 10 (66.45% on one view), 24 min of training.",
    "- `mien_vgg_50ep`: the model shipped until the mixup restart (`git show 53ff101:recommender/emotion/"
    "weights/emotion_model.keras`).",
    "",
    "Measured with `python -m recommender.emotion.choose --candidate mixup_warm6=runs/members/mixup_warm6.keras "
    "--candidate mixup_seed2027_48ep=runs/members/mixup_seed2027_48ep.keras --candidate mien_vgg_50ep=runs/"
    "members/mien_vgg_50ep.keras --members 3 --out recommender/emotion/weights/"
    "emotion_model.levers.2026-12-07-seed.json`. The row marked chosen, all three on 1+1+2 views, scores "
    "68.79% against the shipped model's 68.40% (14 faces) in 9.2 ms on this Xeon. It was not shipped, and "
    "PrivateTest was not evaluated for it: the same three members each on both views score 68.32%, below the "
    "shipped model, so the lead belongs to one view pattern picked from 26 rows, which is how selection noise "
    "looks (one split's standard error is 0.8 points); and its members cost three single views plus one "
    "mirror, an estimated 15-19 ms on the AMD EPYC this project also runs on (from the single models' "
    "times there in the tables above: 3.8-5.3 ms for one view, 7.1-8.3 for two), over the budget, for three "
    "times the weights. Its members' predictions are kept as teachers (below) for "
    "a later student or a fourth member.",
]
EMA_LEVERS_PATH = WEIGHTS_DIR / "emotion_model.levers.2026-12-07-ema.json"
EMA_LEVERS_PROSE = [
    "A moving average of the weights and clean batch-norm statistics, tried late on 2026-12-07 on a 2-core "
    "AMD EPYC with AVX512-BF16 (bfloat16 training, 100-175 s an epoch; no GPU lent):",
    "",
    "- `ema_warm8`: the shipped weights (`mixup_warm6`) warm-restarted for 8 epochs with mixup, AdamW cosine "
    "from 5e-4, validated and kept as an exponential moving average of the weights (Polyak averaging at "
    "momentum 0.999, about the last 1,000 steps: Keras' `use_ema` with `SwapEMAWeights`; checkpoints keep the "
    "trained weights, so `--resume` goes on exactly). Command: `python -m recommender.emotion.train --arch "
    "mien_vgg --epochs 8 --run-name ema_warm8 --init-from runs/init/mixup_warm6.keras --no-equalize --mixup "
    "0.2 --learning-rate 5e-4 --ema 0.999`; best epoch 8 (68.04% on one view), 19 min of training.",
    "- `..._bn`: the same weights with every batch-norm layer's statistics recomputed as plain averages over the "
    "28,709 clean training faces, every other batch mirrored, dropout off as served (80 s). Training leaves them as running averages "
    "over augmented and mixup-blended faces, which are flatter than a real face. `ema_warm8_bn` is the run above "
    "resumed with `--resume --recalibrate-bn`; `mixup_warm6_bn` is the incumbent recalibrated the same way "
    "(`recalibration.recalibrate_batch_norm`), as a control; `ema_warm8` without it was rebuilt from the run's last "
    "checkpoint, whose optimizer holds the average.",
    "- `ema_50ep_warm16_bn`: a member further off, for the ensembles below: the 50-epoch model warm-restarted "
    "for 16 epochs with mixup, AdamW cosine from 1e-3, seed 2027, averaged at 0.9995, then recalibrated. "
    "Command: `python -m recommender.emotion.train --arch mien_vgg --epochs 16 --run-name ema_50ep_warm16 "
    "--init-from runs/init/mien_vgg_50ep.keras --no-equalize --mixup 0.2 --learning-rate 1e-3 --seed 2027 "
    "--ema 0.9995`, then the same with `--resume --recalibrate-bn`; best epoch 11 (67.96% on one view, 68.04% "
    "recalibrated), 32 min of training.",
    "",
    "Measured with `python -m recommender.emotion.choose --candidate mixup_warm6=runs/init/mixup_warm6.keras "
    "--candidate mixup_warm6_bn=runs/members/mixup_warm6_bn.keras --candidate ema_warm8=runs/members/"
    "ema_warm8_nobn.keras --candidate ema_warm8_bn=runs/ema_warm8/best.keras --candidate ema_50ep_warm16_bn="
    "runs/ema_50ep_warm16/best.keras --members 1 --out recommender/emotion/weights/"
    "emotion_model.levers.2026-12-07-ema.json`. From here on each row is also paired with the incumbent face "
    "by face. The two levers add up: on two views the average alone scores 68.18% (below the incumbent's "
    "68.40%), the recalibration alone 68.57%, both 69.07% (+107/-83 faces, McNemar p = 0.095: a lead of 24 "
    "faces that a coin would give about one time in ten), with macro recall up from 66.75% to 67.88%. "
    "Recalibration raised every model it touched (+0.1 to +0.9 points; the 16-epoch run measured on one view in training). `ema_warm8_bn` on "
    "two views, the chosen row (6.2 ms in this run), is the shipped model now, and PrivateTest was evaluated once "
    "for it (Results): 70.33% (2,524 of 3,589 faces) against the mixup restart's 70.05% (2,514), macro recall "
    "69.85% against 69.77%. Ten faces is inside one split's noise again, but the direction held; the issue's "
    "73.5% is still 3.2 points away. One more PrivateTest figure exists, said here so it is not hidden: the "
    "first export of this run was recalibrated with the dropout layers live (a bug a review caught: the last "
    "stage's statistics were taken on dropped-out activations); it scored 68.99% on PublicTest and was "
    "evaluated once at 70.38% (2,526 faces) before the fix. The fixed recalibration was shipped because it is "
    "the correct one and scores 69.07% on PublicTest; PrivateTest played no part in it.",
]
EMA_ENSEMBLES_PATH = WEIGHTS_DIR / "emotion_model.levers.2026-12-07-ema-ensembles.json"
EMA_ENSEMBLES_PROSE = [
    "The recalibrated models with the incumbent, in ensembles of up to three (same evening, same machine): "
    "`python -m recommender.emotion.choose --candidate mixup_warm6=runs/init/mixup_warm6.keras --candidate "
    "ema_warm8_bn=runs/ema_warm8/best.keras --candidate ema_50ep_warm16_bn=runs/ema_50ep_warm16/best.keras "
    "--members 3 --out recommender/emotion/weights/emotion_model.levers.2026-12-07-ema-ensembles.json`. The row "
    "the chooser marks, `ema_warm8_bn+ema_50ep_warm16_bn` on 1+2 views, scores 69.30% in 7.9 ms here (+125/-93 "
    "faces against the incumbent, p = 0.035): eight faces more than `ema_warm8_bn` alone, which is noise, for "
    "twice the weights and an estimated 11-14 ms on the AMD EPYC without AVX-512 (its single-model times above), "
    "over the budget there. The single model was shipped instead.",
]
SOUP_LEVERS_PATH = WEIGHTS_DIR / "emotion_model.levers.2026-12-08-soup.json"
SOUP_LEVERS_PROSE = [
    "More restarts of the shipped model and a weight soup of them, tried in the night of 2026-12-07 to 12-08 on "
    "a 2-core AMD EPYC without AVX-512 (float32 training: 5 min an epoch alone, 7-8 with the test suite "
    "beside it, 9 with two runs side by side on one thread each; no GPU lent). Three children of the shipped `ema_warm8_bn`, 6 epochs "
    "each with mixup, averaged at 0.999 and recalibrated (`--ema 0.999 --recalibrate-bn`), differing in one "
    "setting each, as a soup's ingredients should:",
    "",
    "- `ema2_warm6`: AdamW cosine from 5e-4, mixup Beta(0.2, 0.2), seed 2028. Command: `python -m "
    "recommender.emotion.train --arch mien_vgg --epochs 6 --run-name ema2_warm6 --init-from "
    "runs/init/ema_warm8_bn.keras --no-equalize --mixup 0.2 --learning-rate 5e-4 --ema 0.999 --recalibrate-bn "
    "--seed 2028`; best epoch 6 (68.18% on one view, 68.63% recalibrated), 37 min.",
    "- `sib_lr1e3_warm6`: the same from 1e-3, seed 2029; best epoch 2 (67.74%, 68.52% recalibrated), 56 min.",
    "- `sib_mix04_warm6`: mixup Beta(0.4, 0.4), 5e-4, seed 2030; best epoch 2 (68.29%, 68.82% recalibrated), 56 min.",
    "- `soup_children`: the three averaged weight by weight (Wortsman et al., 2022: fine-tunes of one model "
    "average into one network, served at one model's cost), batch norm recomputed on the clean training "
    "faces. Command: `python -m recommender.emotion.soup --ingredient runs/ema2_warm6/best.keras --ingredient "
    "runs/sib_lr1e3_warm6/best.keras --ingredient runs/sib_mix04_warm6/best.keras --out "
    "runs/soup_children/best.keras`.",
    "",
    "Measured with `python -m recommender.emotion.choose --candidate "
    "ema_warm8_bn=recommender/emotion/weights/emotion_model.keras --candidate ema2_warm6=runs/ema2_warm6/best.keras "
    "--candidate sib_lr1e3_warm6=runs/sib_lr1e3_warm6/best.keras --candidate "
    "sib_mix04_warm6=runs/sib_mix04_warm6/best.keras --candidate soup_children=runs/soup_children/best.keras "
    "--members 1 --out recommender/emotion/weights/emotion_model.levers.2026-12-08-soup.json`. Nothing beat "
    "the shipped model: the children score 68.93-69.04% on two views against its 69.07%, each within a few "
    "faces of it (McNemar p 0.65-1.0), and their soup 68.79%, below every ingredient. The greedy soup "
    "(the shipped model with its children, each added only if PublicTest does not drop: `python -m "
    "recommender.emotion.soup --greedy --ingredient recommender/emotion/weights/emotion_model.keras "
    "--ingredient runs/ema2_warm6/best.keras --ingredient runs/sib_lr1e3_warm6/best.keras --ingredient "
    "runs/sib_mix04_warm6/best.keras --out runs/soup_greedy/best.keras`, 8 min) kept "
    "the shipped model alone: with `ema2_warm6` 69.04%, `sib_mix04_warm6` 68.96%, `sib_lr1e3_warm6` 68.79%. "
    "The lineage has stopped moving at this width: the two restarts since the 50-epoch model gained 1.0 "
    "point between them (68.07% to 68.40% to 69.07%), these three none. Nothing was shipped; PrivateTest was not evaluated. The shipped "
    "model serves its two views in 6.8 ms on this CPU (one thread, LiteRT), inside the 10 ms budget.",
]
WIDEN_LEVERS_PATH = WEIGHTS_DIR / "emotion_model.levers.2026-12-08-widen.json"
WIDEN_LEVERS_PROSE = [
    "A wider net, tried on 2026-12-08 on a 2-core AMD EPYC with AVX512-BF16 (bfloat16 training; no GPU lent). "
    "Every restart of the 1.2M-parameter net since the 50-epoch model had ended near 69% on PublicTest with "
    "77.7% on the clean training faces: it under-fits, and the published 73% models are 5-30M parameters. "
    "Widening costs least at the end of the net, where the maps are 6x6 and 12x12: `mien_vgg_w512` doubles "
    "the last stage (256 to 512 channels, 3.2M parameters) and `mien_vgg_w384` widens the last two 1.5x "
    "(192 and 384, 2.5M). Neither starts from scratch: `networks.widen` (Net2WiderNet, Chen et al., 2016) "
    "gives the wide net the shipped weights, each new channel a copy of an old one (kernel and batch-norm "
    "statistics) whose outgoing weights the next layer splits among the copies, so it starts computing the "
    "shipped model's function (up to the 1% noise that lets the copies learn apart; tests check both). Then the shipped model's own recipe: mixup Beta(0.2, 0.2), AdamW cosine from 5e-4, "
    "averaged at 0.999, batch norm recalibrated.",
    "",
    "- `wide_w512_warm14` and `wide_w384_warm14`: 14 epochs each from the shipped `ema_warm8_bn`, seed 2031, "
    "side by side on one thread each (about 4.4 min an epoch). Command: `python -m recommender.emotion.train "
    "--arch mien_vgg_w512 --epochs 14 --run-name wide_w512_warm14 --init-from runs/init/ema_warm8_bn.keras "
    "--no-equalize --mixup 0.2 --learning-rate 5e-4 --ema 0.999 --recalibrate-bn --seed 2031` (and "
    "`--arch mien_vgg_w384`); best epochs 14 (68.46% on one view, 68.93% recalibrated; 62 min) and 4 "
    "(68.26%, 68.52%; 62 min).",
    "- `wide_w512_warm8`: `wide_w512_warm14` restarted for 8 epochs the same way (seed 2032), alone on "
    "both cores (2.3 min an epoch). Command: `python -m recommender.emotion.train --arch mien_vgg_w512 "
    "--epochs 8 --run-name wide_w512_warm8 --init-from runs/init/wide_w512_warm14.keras --no-equalize "
    "--mixup 0.2 --learning-rate 5e-4 --ema 0.999 --recalibrate-bn --seed 2032`; best epoch 4 (68.79%, "
    "68.91% recalibrated), 19 min.",
    "",
    "Measured with `python -m recommender.emotion.choose --candidate ema_warm8_bn=recommender/emotion/weights/"
    "emotion_model.keras --candidate wide_w512_warm14=runs/wide_w512_warm14/best.keras --candidate "
    "wide_w384_warm14=runs/wide_w384_warm14/best.keras --candidate wide_w512_warm8=runs/wide_w512_warm8/best.keras "
    "--members 1 --out recommender/emotion/weights/emotion_model.levers.2026-12-08-widen.json`. The doubled "
    "last stage is the first lever since the weight average to move the number: 69.32% on two views after "
    "one restart, 69.60% after the second (+73/-54 faces against the incumbent, McNemar p = 0.11), macro "
    "recall 68.26% against 67.88%. Widening the last two stages 1.5x did not help (68.90%). Restarts of the "
    "wide net still gain where the narrow one's had stopped (the soups above). `wide_w512_warm8` on two "
    "views, the chosen row (8.2 ms here, inside the 10 ms budget), is the shipped model now, and PrivateTest "
    "was evaluated once for it (Results): 70.69% (2,537 of 3,589 faces) against the previous model's 70.33% "
    "(2,524), macro recall 70.23% against 69.85%; the issue's 73.5% is 2.8 points away. The price is "
    "serving time and size: its two views cost 1.7x the narrow net's here (8.2 ms against 4.8), which was "
    "not measured on the AMD EPYC without AVX-512, where the narrow net took 6.8 ms and this one would "
    "likely exceed the budget; and the weights are 13 MB (.keras) plus 13 MB (.tflite) against 4.8 + 4.7. "
    "A third restart, from the shipped model (`wide_w512_warm6`: 6 epochs, seed 2033, otherwise the same; 20 "
    "min, the first four epochs beside the test suite; best epoch 2, 68.93% on one view, unchanged by the "
    "recalibration), scored 69.57% on two views against the shipped model's 69.60% (+24/-25 faces; `python -m "
    "recommender.emotion.choose --candidate wide_w512_warm8=recommender/emotion/weights/emotion_model.keras "
    "--candidate wide_w512_warm6=runs/wide_w512_warm6/best.keras --members 1`, not kept in a table): the wide "
    "lineage levels off after two restarts, as the narrow one did after its two.",
]
# The lever runs in order, (prose, table) each; each measured on its own machine, so latencies compare
# within a table only.
LEVER_RUNS = [(LEVERS_PROSE, LEVERS_PATH), (FERPLUS_LEVERS_PROSE, FERPLUS_LEVERS_PATH),
              (MIXUP_LEVERS_PROSE, MIXUP_LEVERS_PATH), (DISTIL_LEVERS_PROSE, DISTIL_LEVERS_PATH),
              (SEED_LEVERS_PROSE, SEED_LEVERS_PATH), (EMA_LEVERS_PROSE, EMA_LEVERS_PATH),
              (EMA_ENSEMBLES_PROSE, EMA_ENSEMBLES_PATH), (SOUP_LEVERS_PROSE, SOUP_LEVERS_PATH),
              (WIDEN_LEVERS_PROSE, WIDEN_LEVERS_PATH)]


def lever_rows(path: Path = LEVERS_PATH) -> list[str]:
    """The PublicTest table that chose the served model (``python -m recommender.emotion.choose --out``)."""
    if not path.exists():
        return []
    levers = json.loads(path.read_text())
    chosen = levers.get("chosen") or {}
    paired = bool(levers["rows"]) and all("faces_gained" in row for row in levers["rows"])  # measured since 2026-12-07
    lines = ["| candidate | views | PublicTest acc | PublicTest macro recall | one face, ms (one thread) |"
             + (" faces gained/lost vs the incumbent | McNemar p |" if paired else ""),
             "|---|---|---|---|---|" + ("---|---|" if paired else "")]
    for row in sorted(levers["rows"], key=lambda r: -r["public_test_accuracy"]):
        mark = " **(chosen)**" if (row["candidate"], str(row["views"])) == (chosen.get("candidate"), str(chosen.get("views"))) else ""
        lines.append(f"| {row['candidate']}{mark} | {row['views']} | {row['public_test_accuracy']:.2%} | "
                     f"{row['public_test_macro_recall']:.2%} | {row['one_face_ms']:.2f} |"
                     + (f" +{row['faces_gained']}/-{row['faces_lost']} | {row['mcnemar_p']:.3f} |" if paired else ""))
    notes = ["", f"Budget {levers['budget_ms']:g} ms per face; the chosen row is the most accurate "
                 "within it. Latencies were measured on the shared training machine in the same run."]
    if paired:
        notes[-1] += (f" Gained/lost: PublicTest faces the row gets right and the incumbent (`{levers.get('incumbent')}` "
                      "as served) gets wrong, and the reverse; McNemar's exact p is how often a coin would split "
                      "those faces at least as unevenly.")
    return lines + notes


def lever_sections() -> list[str]:
    """The card's lever section: each run's prose and table, for the runs whose table exists."""
    lines = [line for prose, path in LEVER_RUNS if path.exists() for line in (*prose, "", *lever_rows(path), "")]
    return ["## Levers, measured on PublicTest", "", *lines] if lines else []
