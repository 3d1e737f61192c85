"""The paper's Table 1 network, the shipped architecture, and the training/evaluation commands."""

import io
import json

import numpy as np
import pytest

from recommender.emotion import networks


def test_paper_cnn_matches_table_1_shapes():
    model = networks.paper_cnn()
    shapes = {layer.name: tuple(layer.output.shape[1:]) for layer in model.layers}
    assert shapes["conv1"] == (42, 42, 64)
    assert shapes["conv2"] == (36, 36, 128)
    assert shapes["pool1"] == (18, 18, 128)
    assert shapes["conv3"] == (12, 12, 256)
    assert shapes["conv4"] == (6, 6, 256)
    assert shapes["pool2"] == (3, 3, 256)
    assert shapes["fc1"] == (512,)
    assert shapes["fc2"] == (7,)


def test_mien_vgg_outputs_probabilities_from_raw_pixels():
    model = networks.mien_vgg()
    out = model(np.random.default_rng(0).uniform(0, 255, (3, 48, 48, 1)).astype("float32"), training=False)
    out = np.asarray(out)
    assert out.shape == (3, 7)
    assert np.allclose(out.sum(axis=1), 1, atol=1e-5)


def test_unknown_architecture_is_refused():
    with pytest.raises(ValueError, match="unknown architecture"):
        networks.build("resnet1000")


def _with_random_statistics(model, seed=5):
    """A freshly built net has unit batch-norm statistics; a trained one does not (copies must carry them)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if "_bn" in layer.name:
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights([rng.uniform(0.5, 1.5, gamma.shape), rng.normal(0, 0.2, beta.shape),
                               rng.normal(0, 0.5, mean.shape), rng.uniform(0.5, 2.0, variance.shape)])
    return model


def test_a_widened_net_computes_what_the_narrow_one_did():
    narrow = _with_random_statistics(networks.mien_vgg(widths=(4, 8, 16, 32)))
    faces = np.random.default_rng(2).uniform(0, 255, (8, 48, 48, 1)).astype("float32")
    expected = np.asarray(narrow(faces, training=False))
    # Doubled (every channel copied once) and 1.5x (half the channels copied, chosen at random).
    wide = networks.widen(narrow, networks.mien_vgg(widths=(4, 8, 24, 64)), seed=3, noise=0.0)
    np.testing.assert_allclose(np.asarray(wide(faces, training=False)), expected, atol=1e-5)
    assert wide.get_layer("s4_conv2").kernel.shape == (3, 3, 64, 64)


def test_widened_copies_start_apart_and_a_narrower_target_is_refused():
    narrow = _with_random_statistics(networks.mien_vgg(widths=(4, 8, 16, 32)))
    wide = networks.widen(narrow, networks.mien_vgg(widths=(4, 8, 16, 64)), seed=3, noise=0.01)
    kernel = np.asarray(wide.get_layer("s4_conv1").kernel)
    original = np.asarray(narrow.get_layer("s4_conv1").kernel)
    np.testing.assert_array_equal(kernel[..., :32], original)  # the source's own channels are untouched
    spread = np.abs(kernel[..., 32:] - original).max()
    assert 0 < spread < 0.1 * np.abs(original).max()  # copies differ, so they can learn apart, but barely
    faces = np.random.default_rng(2).uniform(0, 255, (8, 48, 48, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(wide(faces, training=False)), np.asarray(narrow(faces, training=False)),
                               atol=0.02)
    same = networks.widen(narrow, networks.mien_vgg(widths=(4, 8, 16, 32)), noise=0.01)
    for a, b in zip(same.get_weights(), narrow.get_weights()):
        np.testing.assert_array_equal(a, b)  # no new channels: a plain copy, no noise
    with pytest.raises(ValueError, match="cannot hold"):
        networks.widen(narrow, networks.mien_vgg(widths=(4, 8, 16, 16)))


@pytest.fixture
def tiny_fer(tmp_path):
    rng = np.random.default_rng(1)
    for split, n in (("train", 96), ("public_test", 32), ("private_test", 32)):
        np.savez(tmp_path / f"{split}.npz", x=rng.integers(0, 256, (n, 48, 48), dtype=np.uint8),
                 y=rng.integers(0, 7, n).astype(np.uint8))
    return tmp_path


@pytest.mark.parametrize("arch", ["paper", "mien_vgg"])
def test_training_checkpoints_every_epoch_and_resumes(arch, tiny_fer, tmp_path):
    from recommender.emotion.train import read_history, train

    runs = tmp_path / "runs"
    train(arch, 2, data_dir=tiny_fer, runs_dir=runs, limit=64, verbose=0, batch_size=32)
    run = runs / arch
    assert {"last.keras", "best.keras", "history.csv", "recipe.json", "curves.png", "summary.json"} <= \
        {p.name for p in run.iterdir()}
    assert len(read_history(run / "history.csv")) == 2
    recipe = json.loads((run / "recipe.json").read_text())
    assert recipe["learning_rate"] == (1e-4 if arch == "paper" else 2e-3)
    with pytest.raises(FileExistsError):
        train(arch, 2, data_dir=tiny_fer, runs_dir=runs, limit=64, verbose=0)
    summary = train(arch, 2, resume=True, data_dir=tiny_fer, runs_dir=runs, limit=64, verbose=0)
    assert summary["epochs_done"] == 2  # already complete: nothing more trained
    if arch == "paper":  # a constant learning rate: the run can be extended
        summary = train(arch, 3, resume=True, data_dir=tiny_fer, runs_dir=runs, limit=64, verbose=0)
        assert summary["epochs_done"] == 3 and len(read_history(run / "history.csv")) == 3
        assert json.loads((run / "recipe.json").read_text())["epochs"] == 3
    else:  # a cosine schedule is laid out over the planned epochs: extending would break it
        with pytest.raises(ValueError, match="schedule depends on it"):
            train(arch, 3, resume=True, data_dir=tiny_fer, runs_dir=runs, limit=64, verbose=0)


def test_evaluate_command_reports_on_a_small_slice(tiny_fer, tmp_path):
    from django.core.management import call_command

    from recommender.emotion import networks as nets

    model_path = tmp_path / "m.keras"
    nets.mien_vgg().save(model_path)
    out = io.StringIO()
    call_command("evaluate_emotion_model", "--data", str(tiny_fer / "public_test.npz"), "--model", str(model_path),
                 "--limit", "20", "--json", "--plot", str(tmp_path / "cm.png"), stdout=out)
    report = json.loads(out.getvalue())
    assert report["n"] == 20
    assert sum(map(sum, report["confusion_matrix"])) == 20
    assert set(report["per_class"]) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert 0 <= report["accuracy"] <= 1
    assert (tmp_path / "cm.png").stat().st_size > 1000


def test_warm_restart_starts_from_the_given_weights(tiny_fer, tmp_path):
    import keras

    from recommender.emotion import networks as nets
    from recommender.emotion.train import train

    start = nets.mien_vgg()
    start.save(tmp_path / "start.keras")
    runs = tmp_path / "runs"
    # Zero epochs' worth of learning (lr 0) must leave the warm-start weights untouched.
    train("mien_vgg", 1, data_dir=tiny_fer, runs_dir=runs, run_name="restart", limit=32, verbose=0,
          batch_size=32, learning_rate=0.0, init_from=str(tmp_path / "start.keras"), equalize=False)
    recipe = json.loads((runs / "restart" / "recipe.json").read_text())
    assert recipe["init_from"].endswith("start.keras") and recipe["equalize"] is False
    trained = keras.saving.load_model(runs / "restart" / "last.keras")
    index = next(i for i, w in enumerate(start.weights) if "kernel" in w.path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(trained.weights[index]),
                               keras.ops.convert_to_numpy(start.weights[index]), atol=1e-6)


def test_a_wider_architecture_warm_starts_from_a_narrow_model(tiny_fer, tmp_path):
    import keras

    from recommender.emotion.train import train

    narrow = _with_random_statistics(networks.mien_vgg())
    narrow.save(tmp_path / "narrow.keras")
    runs = tmp_path / "runs"
    train("mien_vgg_w384", 1, data_dir=tiny_fer, runs_dir=runs, run_name="wide", limit=32, verbose=0,
          batch_size=32, learning_rate=0.0, init_from=str(tmp_path / "narrow.keras"), equalize=False)
    wide = keras.saving.load_model(runs / "wide" / "last.keras")
    assert wide.get_layer("s3_conv1").kernel.shape == (3, 3, 64, 192)
    assert wide.get_layer("s4_conv2").kernel.shape == (3, 3, 384, 384)
    # lr 0: the kernels are the narrow ones widened, the source's channels first
    np.testing.assert_allclose(np.asarray(wide.get_layer("s3_conv1").kernel)[..., :128],
                               np.asarray(narrow.get_layer("s3_conv1").kernel), atol=1e-6)
    # 128 of the last stage's 256 channels were copied: the classifier reads each of them half as strongly
    shares = np.asarray(wide.get_layer("classes").kernel)[:256] / np.asarray(narrow.get_layer("classes").kernel)
    np.testing.assert_allclose(shares, shares[:, :1].repeat(7, axis=1), rtol=1e-4)
    assert sorted(np.round(shares[:, 0], 3).tolist()) == [0.5] * 128 + [1.0] * 128


def test_a_weight_average_is_validated_and_kept_as_best_while_the_checkpoint_trains_on(tiny_fer, tmp_path):
    import keras
    from django.core.management import call_command

    runs = tmp_path / "runs"
    # Through the management command, as the card's reproduce lines run it (every option must reach train).
    call_command("train_emotion_model", "--arch", "mien_vgg", "--epochs", "1", "--data-dir", str(tiny_fer),
                 "--runs-dir", str(runs), "--run-name", "ema", "--limit", "64", "--batch-size", "32",
                 "--ema", "0.9", "--seed", "7", "--no-equalize", stdout=io.StringIO())
    run = runs / "ema"
    recipe = json.loads((run / "recipe.json").read_text())
    assert recipe["ema"] == 0.9 and recipe["seed"] == 7
    checkpoint = keras.saving.load_model(run / "last.keras")
    best = keras.saving.load_model(run / "best.keras", compile=False)  # one epoch: the best is its average
    kernel = next(i for i, w in enumerate(checkpoint.trainable_weights) if "kernel" in w.path)
    trained = keras.ops.convert_to_numpy(checkpoint.trainable_weights[kernel])
    average = keras.ops.convert_to_numpy(checkpoint.optimizer._model_variables_moving_average[kernel])
    shipped = keras.ops.convert_to_numpy(best.trainable_weights[kernel])
    assert not np.allclose(trained, average)  # two steps at momentum 0.9: the average lags the weights
    np.testing.assert_allclose(shipped, average, atol=1e-6)
    from recommender.emotion.train import Recipe

    with pytest.raises(ValueError, match="momentum"):
        Recipe(arch="mien_vgg", epochs=1, ema=1.0)
    with pytest.raises(ValueError, match="AdamW"):  # the paper's Adam keeps no average: refused before training
        Recipe.for_arch("paper", 1, ema=0.99)


def test_a_finished_run_takes_batch_norm_statistics_from_its_clean_training_faces(tiny_fer, tmp_path):
    import keras

    from recommender.emotion.train import train

    runs = tmp_path / "runs"
    train("mien_vgg", 1, data_dir=tiny_fer, runs_dir=runs, run_name="bn", limit=64, verbose=0, batch_size=32,
          equalize=False, mixup=0.4, precision="float32")
    run = runs / "bn"
    trained = keras.saving.load_model(run / "best.keras", compile=False)
    assert not (run / "bn_recalibration.json").exists()
    # A step after the schedule: a finished run takes it on when resumed with it, and only once.
    summary = train("mien_vgg", 1, resume=True, data_dir=tiny_fer, runs_dir=runs, run_name="bn", limit=64,
                    verbose=0, recalibrate_bn=True)
    assert json.loads((run / "recipe.json").read_text())["recalibrate_bn"] is True
    record = json.loads((run / "bn_recalibration.json").read_text())
    assert record["faces"] == 64 and summary["batch_norm_recalibration"] == record
    model = keras.saving.load_model(run / "best.keras", compile=False)
    for before, after in zip(trained.weights, model.weights):  # the weights stay; only the statistics move
        if "moving" not in after.path:
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(before), keras.ops.convert_to_numpy(after))
    with np.load(tiny_fer / "train.npz") as rows:
        faces = rows["x"][:64, ..., None].astype("float32")  # one batch of 64: none of it mirrored
    conv = keras.Model(model.input, model.get_layer("s1_conv1").output)
    expected = keras.ops.convert_to_numpy(conv(faces)).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model.get_layer("s1_bn1").moving_mean), expected,
                               rtol=1e-4, atol=1e-5)
    stale = keras.ops.convert_to_numpy(trained.get_layer("s1_bn1").moving_mean)
    assert not np.allclose(stale, expected, rtol=1e-2)  # one epoch's running average was elsewhere
    again = train("mien_vgg", 1, resume=True, data_dir=tiny_fer, runs_dir=runs, run_name="bn", limit=64, verbose=0)
    assert again["batch_norm_recalibration"] == record


def test_recalibrated_statistics_are_plain_averages_over_batches_as_served():
    import keras

    from recommender.emotion.recalibration import recalibrate_batch_norm

    model = networks.mien_vgg(widths=(4, 8, 16, 32))
    faces = np.random.default_rng(3).integers(0, 256, (64, 48, 48), dtype=np.uint8)
    recalibrate_batch_norm(model, faces, batch_size=16)
    stats = {name: [keras.ops.convert_to_numpy(model.get_layer(name).moving_mean),
                    keras.ops.convert_to_numpy(model.get_layer(name).moving_variance)] for name in ("s1_bn1", "s4_bn1")}
    assert model.get_layer("s1_bn1").momentum == 0.99 and model.get_layer("s3_drop").rate == 0.1  # put back
    pixels = faces[..., None].astype("float32")
    batches = [pixels[i:i + 16] if i % 32 == 0 else pixels[i:i + 16, :, ::-1] for i in range(0, 64, 16)]  # 2nd, 4th mirrored
    # Expected: each batch normalised by its own statistics (training mode) with the dropout off, as served;
    # the last stage's first convolution sees stage 3 after its dropout, so a live dropout would show there.
    model.get_layer("s3_drop").rate = 0.0
    probe = keras.Model(model.input, [model.get_layer("s1_conv1").output, model.get_layer("s4_conv1").output])
    outputs = [[keras.ops.convert_to_numpy(o) for o in probe(batch, training=True)] for batch in batches]
    for name, index in (("s1_bn1", 0), ("s4_bn1", 1)):
        mean = np.mean([o[index].mean(axis=(0, 1, 2)) for o in outputs], axis=0)
        variance = np.mean([o[index].var(axis=(0, 1, 2)) for o in outputs], axis=0)
        np.testing.assert_allclose(stats[name][0], mean, rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(stats[name][1], variance, rtol=1e-3, atol=1e-4)


def test_export_of_a_warm_restart_counts_every_stage(tiny_fer, tmp_path):
    from recommender.emotion import networks as nets
    from recommender.emotion.train import export, read_history, train, write_history_row

    nets.mien_vgg().save(tmp_path / "stage1.keras")
    for epoch in (1, 2, 3):  # the earlier stage's history travels beside its model
        write_history_row(tmp_path / "stage1.history.csv",
                          {"epoch": epoch, "seconds": 10.0, "accuracy": 0.5, "loss": 1.0,
                           "val_accuracy": 0.5, "val_loss": 1.0, "learning_rate": 1e-3})
    (tmp_path / "stage1.recipe.json").write_text(json.dumps({"arch": "mien_vgg", "epochs": 3}))
    runs, weights = tmp_path / "runs", tmp_path / "weights"
    train("mien_vgg", 2, data_dir=tiny_fer, runs_dir=runs, run_name="stage2", limit=32, verbose=0,
          batch_size=32, init_from=str(tmp_path / "stage1.keras"), equalize=False)
    shipped = export("mien_vgg", runs, weights, run_name="stage2")
    history = read_history(weights / "emotion_model.history.csv")
    assert [int(r["epoch"]) for r in history] == [1, 2, 3, 4, 5]
    summary = json.loads((weights / "emotion_model.summary.json").read_text())
    assert summary["epochs_done"] == 5 and summary["warm_start_epochs"] == 3
    assert summary["warm_start_recipe"] == {"arch": "mien_vgg", "epochs": 3}
    assert summary["best_epoch"] in (4, 5)  # chosen within the new stage, numbered on from the old
    assert json.loads((weights / "emotion_model.recipe.json").read_text())["equalize"] is False
    assert shipped.exists() and (weights / "emotion_model.curves.png").exists()


def test_the_card_reproduces_each_training_stage_with_runnable_commands(tmp_path):
    import argparse
    import shlex

    from recommender.emotion.card import shipped_training_commands
    from recommender.emotion.train import add_arguments

    first = {"arch": "mien_vgg", "epochs": 20, "learning_rate": 0.002}  # no "equalize": raw rows
    restart = {"arch": "mien_vgg", "epochs": 18, "learning_rate": 0.0008, "equalize": False,
               "init_from": "runs/init/x.keras"}
    (tmp_path / "emotion_model.summary.json").write_text(json.dumps(
        {"recipe": restart, "warm_start_recipe": first, "warm_start_epochs": 20}))
    commands = shipped_training_commands(tmp_path)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    parsed = [parser.parse_args(shlex.split(line.split("#")[0])[3:])
              for line in commands if line.startswith("python manage.py train_emotion_model")]
    assert [(a.epochs, a.learning_rate, a.equalize) for a in parsed] == [(20, 0.002, False), (18, 0.0008, False)]
    stage1, stage2 = parsed
    assert stage1.export and stage1.init_from is None
    assert stage2.init_from and stage2.init_from.endswith(".keras") and stage2.export
    # The copy between them puts the first stage's exported model where the restart reads it.
    assert any(stage2.init_from.removesuffix(".keras") in line and "cp " in line for line in commands)


def test_three_stages_reproduce_in_order_with_their_crop(tmp_path):
    import argparse
    import shlex

    from recommender.emotion.card import shipped_training_commands
    from recommender.emotion.train import add_arguments

    stages = [{"recipe": {"arch": "mien_vgg", "epochs": 20, "learning_rate": 0.002}, "epochs": 20},
              {"recipe": {"arch": "mien_vgg", "epochs": 30, "learning_rate": 0.001, "equalize": False,
                          "seed": 2027}, "epochs": 30},
              {"recipe": {"arch": "mien_vgg", "epochs": 20, "learning_rate": 0.001, "equalize": False,
                          "crop": 40, "mixup": 0.2, "distil": ["a", "b.2"], "distil_weight": 0.3}, "epochs": 20}]
    (tmp_path / "emotion_model.summary.json").write_text(json.dumps({"recipe": stages[-1]["recipe"], "stages": stages}))
    commands = shipped_training_commands(tmp_path)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    parsed = [parser.parse_args(shlex.split(line.split("#")[0])[3:])
              for line in commands if line.startswith("python manage.py train_emotion_model")]
    assert [(a.epochs, a.crop, a.mixup) for a in parsed] == [(20, None, None), (30, None, None), (20, 40, 0.2)]
    assert [(a.distil, a.distil_weight) for a in parsed] == [(None, None), (None, None), (["a", "b.2"], 0.3)]
    assert [a.seed for a in parsed] == [None, 2027, None]  # the default seed (1234) goes unsaid
    assert parsed[0].init_from is None
    for earlier, later in zip(parsed, parsed[1:]):  # each stage starts from the one exported before it
        copied = next(line for line in commands if "cp " in line and later.init_from.removesuffix(".keras") in line)
        assert commands.index(copied) > commands.index(next(c for c in commands if f"--run-name {earlier.run_name} " in c))


def test_the_card_reproduces_an_ensemble_member_by_member_then_averages_them(tmp_path):
    import argparse
    import shlex

    from recommender.emotion.card import shipped_training_commands
    from recommender.emotion.ensemble import parse_member
    from recommender.emotion.train import add_arguments

    two_stages = {"epochs_done": 56, "stages": [
        {"recipe": {"arch": "mien_vgg", "epochs": 50, "learning_rate": 0.002}, "epochs": 50},
        {"recipe": {"arch": "mien_vgg", "epochs": 6, "learning_rate": 0.0003, "mixup": 0.2}, "epochs": 6}]}
    one_stage = {"epochs_done": 36}
    (tmp_path / "emotion_model.recipe.json").write_text(json.dumps({"arch": "ensemble", "serve_views": 1, "members": [
        {"file": "a.keras", "sha256": "0" * 64, "views": 2, "recipe": two_stages["stages"][1]["recipe"],
         "summary": two_stages},
        {"file": "b.keras", "sha256": "1" * 64, "views": 1, "summary": one_stage,
         "recipe": {"arch": "mien_vgg", "epochs": 36, "learning_rate": 0.002, "mixup": 0.2, "seed": 2027}}]}))
    commands = shipped_training_commands(tmp_path)
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    trains = [parser.parse_args(shlex.split(line.split("#")[0])[3:])
              for line in commands if line.startswith("python manage.py train_emotion_model")]
    assert [(a.epochs, a.mixup, a.seed) for a in trains] == [(50, None, None), (6, 0.2, None), (36, 0.2, 2027)]
    assert trains[1].init_from and trains[2].init_from is None  # the second member starts from scratch
    assert len({a.run_name for a in trains}) == 3  # no stage overwrites another's run
    *_, last = commands
    assert last.startswith("python -m recommender.emotion.ensemble")
    members = [parse_member(m) for m in shlex.split(last)[3:] if ".keras:" in m]
    assert [views for _, views in members] == [2, 1]
    for number, (path, _) in enumerate(members, start=1):  # each member copied where the ensemble reads it
        copy = next(i for i, line in enumerate(commands) if "cp " in line and str(path.with_suffix("")) in line)
        member_trains = [i for i, line in enumerate(commands) if f"--run-name member{number}_" in line]
        assert member_trains and max(member_trains) < copy < len(commands) - 1


def test_a_crop_run_trains_on_crops_and_ships_a_float32_model_that_chains_its_stages(tiny_fer, tmp_path):
    import keras

    from recommender.emotion import networks as nets
    from recommender.emotion.predictor import Predictor
    from recommender.emotion.train import export, train

    nets.mien_vgg().save(tmp_path / "stage2.keras")
    (tmp_path / "stage2.summary.json").write_text(json.dumps({
        "epochs_done": 5, "warm_start_epochs": 3, "recipe": {"arch": "mien_vgg", "epochs": 2},
        "warm_start_recipe": {"arch": "mien_vgg", "epochs": 3}}))
    runs, weights = tmp_path / "runs", tmp_path / "weights"
    train("mien_vgg", 1, data_dir=tiny_fer, runs_dir=runs, run_name="crops", limit=64, verbose=0, batch_size=32,
          init_from=str(tmp_path / "stage2.keras"), equalize=False, crop=40, mixup=0.2)
    recipe = json.loads((runs / "crops" / "recipe.json").read_text())
    assert recipe["crop"] == 40 and recipe["mixup"] == 0.2
    assert recipe["precision"] in ("float32", "mixed_bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"  # training put the default back
    shipped = export("mien_vgg", runs, weights, run_name="crops")
    model = keras.saving.load_model(shipped, compile=False)
    assert model.input_shape[1:] == (40, 40, 1)
    assert all(layer.dtype_policy.name == "float32" for layer in model.layers)
    # Shipped without the optimizer's two moments per weight: a third of the checkpoint.
    assert shipped.stat().st_size < (runs / "crops" / "best.keras").stat().st_size / 2
    summary = json.loads((weights / "emotion_model.summary.json").read_text())
    assert [stage["epochs"] for stage in summary["stages"]] == [3, 2, 1]
    assert summary["stages"][-1]["recipe"]["crop"] == 40
    assert Predictor(shipped).views == 10  # a crop model is served on ten crops unless chosen otherwise


def test_bfloat16_only_where_the_cpu_has_it(monkeypatch):
    from recommender.emotion import pipeline

    monkeypatch.setattr(pipeline, "cpu_flags", lambda: {"avx2", "fma"})
    assert pipeline.training_precision("auto") == "float32"
    monkeypatch.setattr(pipeline, "cpu_flags", lambda: {"avx512f", "amx_bf16"})
    assert pipeline.training_precision("auto") == "mixed_bfloat16"
    assert pipeline.training_precision("float32") == "float32"  # an explicit choice wins


def test_the_graph_pipeline_crops_mixes_and_weighs_rows():
    from recommender.emotion.pipeline import class_weights, train_dataset

    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (40, 48, 48), dtype=np.uint8)
    y = np.arange(40) % 7
    weights = class_weights(y, 1.0)
    plain, steps = train_dataset(x, y, batch_size=16, crop=40, augment=False, label_smoothing=0.0,
                                 mixup=0.0, weights=weights, seed=0)
    assert steps == 3
    seen = []
    for pixels, targets, sample_w in plain:
        pixels, targets = pixels.numpy(), targets.numpy()
        for image, target in zip(pixels, targets):
            index = next(i for i in range(40) if np.array_equal(image[..., 0], x[i, 4:44, 4:44]))  # the centre crop
            assert target.argmax() == y[index]
            seen.append(index)
        np.testing.assert_allclose(sample_w.numpy(), weights[targets.argmax(axis=1)], rtol=1e-6)
    assert sorted(seen) == list(range(40))  # every image once per epoch
    mixed, _ = train_dataset(x, y, batch_size=16, crop=40, augment=True, label_smoothing=0.1, mixup=0.4,
                             weights=weights, seed=0)
    pixels, targets, sample_w = next(iter(mixed))
    assert pixels.shape == (16, 40, 40, 1)
    assert 0 <= float(np.min(pixels)) and float(np.max(pixels)) <= 255
    np.testing.assert_allclose(targets.numpy().sum(axis=1), 1, atol=1e-5)
    assert (targets.numpy() > 0.2).sum(axis=1).max() >= 2  # some rows are real mixtures of two labels
    np.testing.assert_allclose(sample_w.numpy(), targets.numpy() @ weights, rtol=1e-5)


def test_the_choice_is_the_most_accurate_row_within_the_latency_budget(tiny_fer, crop_and_plain_models):
    from recommender.emotion.choose import best_within, measure

    rows = measure(crop_and_plain_models, tiny_fer)
    views = {(r["candidate"], str(r["views"])) for r in rows}
    assert {("plain", "1"), ("plain", "2"), ("crop", "10"), ("crop", "5"), ("plain+crop", "2+10")} <= views
    assert ("crop+crop", "1+2") not in views  # two view sets of one model are not an ensemble
    assert not any(r["candidate"].count("+") > 1 for r in rows)  # pairs by default
    served = next(r for r in rows if (r["candidate"], r["views"]) == ("plain", 2))  # the incumbent as served
    assert (served["faces_gained"], served["faces_lost"], served["mcnemar_p"]) == (0, 0, 1.0)
    for row in rows:  # the pairing agrees with the two accuracies: gained - lost = the difference in faces
        assert row["faces_gained"] - row["faces_lost"] == round(32 * (row["public_test_accuracy"] - served["public_test_accuracy"]))
    rows = measure(crop_and_plain_models, tiny_fer, members=1)
    assert not any("+" in r["candidate"] for r in rows)
    trio = measure({**crop_and_plain_models, "again": crop_and_plain_models["plain"]}, tiny_fer, members=3)
    triples = [r for r in trio if r["candidate"] == "plain+crop+again"]
    assert len(triples) == 2 * 4 * 2 and ("plain+crop+again", "1+10+2") in {(r["candidate"], r["views"]) for r in triples}
    single = {(r["candidate"], str(r["views"])): r["one_face_ms"] for r in trio if "+" not in r["candidate"]}
    assert next(r for r in triples if r["views"] == "1+10+2")["one_face_ms"] == pytest.approx(
        single[("plain", "1")] + single[("crop", "10")] + single[("again", "2")], abs=0.02)
    rows = [{"candidate": "a", "views": 1, "public_test_accuracy": 0.70, "public_test_macro_recall": 0.6, "one_face_ms": 4},
            {"candidate": "b", "views": 10, "public_test_accuracy": 0.72, "public_test_macro_recall": 0.7, "one_face_ms": 12},
            {"candidate": "c", "views": 5, "public_test_accuracy": 0.71, "public_test_macro_recall": 0.7, "one_face_ms": 9}]
    assert best_within(rows, 10)["candidate"] == "c"
    assert best_within(rows, 20)["candidate"] == "b"
    assert best_within(rows, 1) is None


def test_a_row_is_paired_with_the_incumbent_face_by_face():
    from recommender.emotion.choose import paired_with

    incumbent = np.array([True] * 60 + [False] * 40)
    same_accuracy = np.roll(incumbent, 20)  # 60% right as well, on different faces
    assert paired_with(same_accuracy, incumbent) == {"faces_gained": 20, "faces_lost": 20, "mcnemar_p": 1.0}
    better = incumbent.copy()
    better[60:70] = True  # ten more faces, none lost
    assert paired_with(better, incumbent) == {"faces_gained": 10, "faces_lost": 0, "mcnemar_p": round(2 * 0.5 ** 10, 4)}
    mixed = better.copy()
    mixed[:3] = False  # +10/-3: a lead of seven faces that a coin would give one time in ten
    result = paired_with(mixed, incumbent)
    assert (result["faces_gained"], result["faces_lost"]) == (10, 3) and 0.05 < result["mcnemar_p"] < 0.2


@pytest.fixture
def crop_and_plain_models(tmp_path):
    from recommender.emotion import networks as nets

    paths = {"plain": tmp_path / "plain.keras", "crop": tmp_path / "crop.keras"}
    nets.mien_vgg(widths=(4, 8, 16, 32)).save(paths["plain"])
    nets.mien_vgg(widths=(4, 8, 16, 32), input_size=40).save(paths["crop"])
    return paths


def test_ferplus_votes_blend_into_targets_and_low_vote_rows_are_dropped(tmp_path):
    from recommender.emotion.pipeline import ferplus_targets

    votes = np.zeros((4, 10), np.uint8)
    votes[0, [4, 0]] = [6, 4]  # anger 6, neutral 4
    votes[1, 9] = 10  # not a face
    votes[2, [1, 8]] = [3, 7]  # happiness 3, unknown 7: too few votes for the seven classes
    # row 3: no votes at all (a lossy re-release row FER+ has no file for)
    np.savez(tmp_path / "train.npz", x=np.zeros((4, 48, 48), np.uint8), y=np.array([0, 3, 3, 4], np.uint8),
             ferplus=votes)
    targets, keep = ferplus_targets(tmp_path, "train", np.array([0, 3, 3, 4]), 0.5)
    assert keep.tolist() == [True, False, False, True]
    np.testing.assert_allclose(targets[0], [0.5 + 0.3, 0, 0, 0, 0, 0, 0.2])  # angry label + its votes
    np.testing.assert_allclose(targets[3], 0.5 * np.eye(7)[4] + 0.5 / 7)
    np.testing.assert_allclose(targets.sum(axis=1), 1, atol=1e-6)


def test_teachers_are_recorded_averaged_checked_and_distilled_into_a_student(tiny_fer, crop_and_plain_models, tmp_path):
    from recommender.emotion import teachers
    from recommender.emotion.evaluate import report
    from recommender.emotion.pipeline import load_split
    from recommender.emotion.predictor import Predictor
    from recommender.emotion.train import train

    shelf = tmp_path / "teachers"
    for name, path in crop_and_plain_models.items():
        meta = teachers.record(name, path, tiny_fer, shelf)
        assert meta["views"] == Predictor(path).views and meta["one_face_ms"] > 0
    assert set(teachers.recorded(shelf)) == {"plain", "crop"}
    assert not list(shelf.glob("private_test*")) and "private_test" not in teachers.recorded(shelf)["plain"]
    x, y = load_split(tiny_fer, "public_test")
    served = Predictor(crop_and_plain_models["plain"]).predict(x)
    plain = teachers.predictions(["plain"], "public_test", y, shelf)
    np.testing.assert_allclose(plain, served, atol=1e-3)  # float16 on disk, as served
    assert teachers.recorded(shelf)["plain"]["public_test"]["accuracy"] == report(y, served)["accuracy"]
    pair = teachers.predictions(["plain", "crop"], "public_test", y, shelf)
    np.testing.assert_allclose(pair, (plain + teachers.predictions(["crop"], "public_test", y, shelf)) / 2, atol=1e-5)
    rows = teachers.ensembles(["plain", "crop"], tiny_fer, shelf)
    assert {r["teachers"] for r in rows} == {"plain", "crop", "plain+crop"}
    assert rows == sorted(rows, key=lambda r: -r["public_test_accuracy"])
    from recommender.emotion.card import teacher_section

    card = "\n".join(teacher_section(tiny_fer, shelf))
    assert "| plain | 2 |" in card and "| crop | 10 |" in card
    pair_row = next(r for r in rows if r["teachers"] == "plain+crop")
    assert f"| crop+plain | {pair_row['public_test_accuracy']:.2%} |" in card  # the card lists teachers by name

    # Another split under the same name is refused instead of pairing predictions with the wrong faces.
    with pytest.raises(ValueError, match="another public_test split"):
        teachers.predictions(["plain"], "public_test", (y + 1) % 7, shelf)
    with pytest.raises(FileNotFoundError, match="recorded: crop, plain"):
        teachers.predictions(["nobody"], "train", y, shelf)
    with pytest.raises(ValueError, match="teachers predict"):
        teachers.predictions(["plain"], "private_test", y, shelf)
    with pytest.raises(ValueError, match="teacher name"):
        teachers.record("../escape", crop_and_plain_models["plain"], tiny_fer, shelf)

    targets = teachers.distillation_targets(pair, y, 0.25, 0.1)
    expected = 0.75 * (np.eye(7)[y] * 0.9 + 0.1 / 7) + 0.25 * pair
    np.testing.assert_allclose(targets, expected, atol=1e-6)
    np.testing.assert_allclose(targets.sum(axis=1), 1, atol=1e-5)

    summary = train("mien_vgg", 1, data_dir=tiny_fer, runs_dir=tmp_path / "runs", limit=64, verbose=0,
                    batch_size=32, teachers_dir=shelf, distil=["plain", "crop"], distil_weight=0.5)
    assert summary["recipe"]["distil"] == ["plain", "crop"] and summary["epochs_done"] == 1
    with pytest.raises(ValueError, match="not both"):
        train("mien_vgg", 1, data_dir=tiny_fer, runs_dir=tmp_path / "runs2", limit=64, verbose=0,
              teachers_dir=shelf, distil=["plain"], ferplus=0.4)


def test_a_lever_table_shows_each_row_against_the_incumbent_where_it_was_measured(tmp_path):
    from recommender.emotion.card_levers import lever_rows

    row = {"candidate": "a", "views": 2, "public_test_accuracy": 0.684, "public_test_macro_recall": 0.667,
           "one_face_ms": 4.9}
    older = tmp_path / "older.json"
    older.write_text(json.dumps({"budget_ms": 10, "rows": [row], "chosen": row}))
    assert "McNemar" not in "\n".join(lever_rows(older))  # tables measured before the pairing keep their columns
    paired = tmp_path / "paired.json"
    rows = [{**row, "faces_gained": 0, "faces_lost": 0, "mcnemar_p": 1.0},
            {**row, "candidate": "b", "public_test_accuracy": 0.686, "faces_gained": 31, "faces_lost": 24,
             "mcnemar_p": 0.4188}]
    paired.write_text(json.dumps({"budget_ms": 10, "incumbent": "a", "rows": rows, "chosen": rows[1]}))
    table = lever_rows(paired)
    assert table[0].endswith("| faces gained/lost vs the incumbent | McNemar p |")
    assert table[2] == "| b **(chosen)** | 2 | 68.60% | 66.70% | 4.90 | +31/-24 | 0.419 |"
    assert "`a` as served" in table[-1]
