// The job page (templates/jobs/job.html): loss and metric curves drawn with uPlot, the progress
// line and the log tail. They start from the events stored when the page was made and then follow
// the job's event stream. When the job ends the page reloads once, to show how it ended and what
// it produced. Each chart's data-points attribute says how many points it plots.
(() => {
  const root = document.getElementById("job");
  if (!root) return;
  const FINISHED = ["succeeded", "failed", "cancelled"];
  const LOG_LINES = 200;
  const HEIGHT = 240;
  // Steps and epochs are whole numbers: their axes never tick at 2.5.
  const WHOLE = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000];
  const totalEpochs = root.dataset.epochs;
  const palette = getComputedStyle(document.documentElement);
  const colour = (name) => palette.getPropertyValue(name).trim();

  const steps = [[], []]; // step, loss
  const epochs = [[], [], [], []]; // epoch, train loss, validation loss, validation accuracy
  const latest = {};
  const logLines = [];
  let lastId = 0;
  let redrawTimer = null;

  function makeChart(id, data, series, scales, axes) {
    const box = document.getElementById(id);
    if (!box) return null; // a kind of job whose page has no such chart
    const options = { width: box.clientWidth, height: HEIGHT, series, scales: { x: { time: false }, ...scales }, axes };
    return { box, data, plot: new uPlot(options, data, box) };
  }

  const charts = [
    makeChart(
      "chart-steps",
      steps,
      [{ label: "step" }, { label: "loss", stroke: colour("--accent"), width: 1.5, points: { show: false } }],
      {},
      [{ label: "step", incrs: WHOLE }, { label: "loss" }],
    ),
    makeChart(
      "chart-epochs",
      epochs,
      [
        { label: "epoch" },
        { label: "train loss", stroke: colour("--accent"), width: 2, scale: "loss" },
        { label: "val loss", stroke: "#d97706", width: 2, dash: [6, 4], scale: "loss" },
        { label: "val accuracy", stroke: colour("--ok"), width: 2, scale: "score" },
      ],
      { loss: { auto: true }, score: { range: [0, 1] } },
      [{ label: "epoch", incrs: WHOLE }, { scale: "loss", label: "loss" }, { scale: "score", side: 1, label: "accuracy", grid: { show: false } }],
    ),
  ].filter(Boolean);

  // A step or epoch number that goes back means the job started over (it was re-queued).
  function append(series, x, values) {
    if (series[0].length && x <= series[0][series[0].length - 1]) series.forEach((column) => { column.length = 0; });
    series[0].push(x);
    values.forEach((value, index) => series[index + 1].push(typeof value === "number" ? value : null));
  }

  function addMetrics(record) {
    Object.assign(latest, record);
    if (record.kind === "step") append(steps, record.step, [record.loss]);
    if (record.kind === "epoch") append(epochs, record.epoch, [record.train_loss, record.val_loss, record.val_accuracy]);
  }

  // Log lines, and state changes in brackets, as `plaza jobs logs` prints them (jobs/logs.py).
  function addLog(line) {
    logLines.push(String(line));
    if (logLines.length > LOG_LINES) logLines.splice(0, logLines.length - LOG_LINES);
  }

  function add(event) {
    if (event.id <= lastId) return;
    lastId = event.id;
    if (event.kind === "metrics") addMetrics(event.data);
    if (event.kind === "log") addLog(event.data.line);
    if (event.kind === "state") {
      const detail = event.data.message || (event.data.worker ? `on worker ${event.data.worker}` : "");
      addLog(`[${event.data.state}]${detail ? ` ${detail}` : ""}`);
      showState(event.data);
    }
    scheduleRedraw();
  }

  function progressLine() {
    if (!latest.epoch) return "";
    const parts = [`Epoch ${latest.epoch}${totalEpochs ? ` / ${totalEpochs}` : ""}`];
    if (typeof latest.loss === "number") parts.push(`loss ${latest.loss.toFixed(4)}`);
    if (typeof latest.val_accuracy === "number") parts.push(`val accuracy ${latest.val_accuracy.toFixed(3)}`);
    if (typeof latest.test_accuracy === "number") parts.push(`test accuracy ${latest.test_accuracy.toFixed(3)}`);
    return parts.join(" · ");
  }

  function redraw() {
    redrawTimer = null;
    for (const { box, data, plot } of charts) {
      plot.setData(data);
      box.dataset.points = String(data[0].length);
      const empty = document.querySelector(`[data-empty-for="${box.id}"]`);
      if (empty) empty.hidden = data[0].length > 0;
    }
    const progress = document.getElementById("job-progress");
    const line = progressLine();
    if (line && progress.textContent !== line) progress.textContent = line;
    const log = document.getElementById("job-log");
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.textContent = logLines.join("\n");
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  // Many events can arrive at once: draw at most five times a second.
  function scheduleRedraw() {
    if (redrawTimer === null) redrawTimer = setTimeout(redraw, 200);
  }

  let source = null;

  function showState(data) {
    if (!source) return; // stored state changes: the page already shows the current state
    const badge = document.getElementById("job-state");
    badge.textContent = data.state;
    badge.dataset.state = data.state;
    badge.className = `badge badge-state badge-${data.state}`;
    if (data.state === "running") document.getElementById("job-started").textContent = "just now";
    if (FINISHED.includes(data.state)) {
      source.close();
      window.location.reload();
    }
  }

  JSON.parse(document.getElementById("job-events").textContent).forEach(add);
  redraw();
  window.addEventListener("resize", () => {
    for (const { box, plot } of charts) plot.setSize({ width: box.clientWidth, height: HEIGHT });
  });

  if (root.dataset.finished !== "true") {
    source = new EventSource(`/api/jobs/${root.dataset.jobId}/stream?after=${root.dataset.after}`);
    for (const kind of ["metrics", "log", "state"]) {
      source.addEventListener(kind, (message) => add(JSON.parse(message.data)));
    }
  }
})();
