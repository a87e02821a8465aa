"""``plaza jobs list``'s table: a line per job within the terminal's width, with the epoch a
run reached out of its total and one headline score."""

from modelplaza.cli.jobs import compact, job_table

FINISHED = {
    "kind": "test",
    "epoch": 10,
    "best_epoch": 9,
    "step": 400,
    "loss": 0.0213,
    "train_loss": 0.03,
    "val_loss": 0.08,
    "val_accuracy": 0.9741,
    "val_f1": 0.97,
    "test_loss": 0.07,
    "test_accuracy": 0.9704,
    "test_f1": 0.97,
}


def job(number: int, title: str, owner: str = "alice", progress: dict | None = None) -> dict:
    return {
        "id": number,
        "state": "succeeded",
        "title": title,
        "owner": owner,
        "created_at": "2026-12-06T21:51:33.123456+00:00",
        "spec": {"training": {"epochs": 10}},
        "progress": FINISHED if progress is None else progress,
    }


def test_the_latest_metrics_fit_in_a_few_words():
    assert compact(FINISHED, 10) == "epoch 10/10  test_accuracy 0.97"
    assert compact({"epoch": 3, "loss": 0.5, "val_accuracy": 0.912}, 10) == "epoch 3/10  val_accuracy 0.912"
    assert compact({"epoch": 2, "step": 7, "loss": 0.51234}, None) == "epoch 2  loss 0.512"
    assert compact({"epoch": 4, "val_mse": 12.3456, "val_r2": 0.81}, 5) == "epoch 4/5  val_r2 0.81"
    assert compact({}, 10) == ""


def test_rows_fit_the_terminal_one_line_each_titles_cut_short_first():
    jobs = [
        job(123, "train transformer on a-long-organisation-name/a-very-long-dataset-name-indeed", "bob"),
        job(7, "train cnn on demo/digits", progress={"epoch": 3, "loss": 0.4}),
    ]
    lines = job_table(jobs, 100)
    assert len(lines) == 3 and all(len(line) <= 100 for line in lines), lines
    assert lines[0].split() == ["id", "state", "title", "owner", "created", "progress"]
    assert "train transformer on a-lo…  bob" in lines[1]
    assert lines[1].endswith("2026-12-06 21:51  epoch 10/10  test_accuracy 0.97")
    assert lines[2].split()[:6] == ["7", "succeeded", "train", "cnn", "on", "demo/digits"]

    whole = job_table(jobs, None)  # piped: nothing cut
    assert "a-very-long-dataset-name-indeed" in whole[1] and "…" not in "".join(whole)
    mine = job_table([jobs[1]], 100)  # one owner: no owner column
    assert mine[0].split() == ["id", "state", "title", "created", "progress"]
