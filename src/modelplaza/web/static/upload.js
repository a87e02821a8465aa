// The upload page: files and folders chosen or dropped are listed with their sizes, then sent
// in one request (XMLHttpRequest, for its upload progress) that the plaza commits at once.
// Their names are checked by the plaza first (…/upload/<rev>/check), as they are chosen and
// again before sending, so a refused name costs no upload.
// Without this script the form still works: the browser posts it and the plaza redirects.
(() => {
  const form = document.querySelector("form[data-upload]");
  if (!form) return;
  const dropzone = form.querySelector("[data-dropzone]");
  const table = form.querySelector("[data-upload-files]");
  const progressBox = form.querySelector("[data-upload-progress]");
  const progress = progressBox.querySelector("progress");
  const status = form.querySelector("[data-upload-status]");
  const submit = form.querySelector('button[type="submit"]');
  const maxFileSize = Number(form.dataset.maxFileSize);
  const chosen = new Map(); // path -> File; a path chosen twice keeps the newest file

  // Sizes as the pages show them (decimal units).
  const formatSize = (size) => {
    let value = size;
    for (const unit of ["B", "kB", "MB", "GB"]) {
      if (value < 1000) return unit === "B" ? `${value} B` : `${value.toFixed(1)} ${unit}`;
      value /= 1000;
    }
    return `${value.toFixed(1)} TB`;
  };

  const say = (message, isError = false) => {
    status.textContent = message;
    status.classList.toggle("error", isError);
  };

  const render = () => {
    const body = table.querySelector("tbody");
    body.replaceChildren();
    for (const [path, file] of chosen) {
      const row = body.insertRow();
      row.insertCell().textContent = path;
      const size = row.insertCell();
      size.className = "size";
      size.textContent = formatSize(file.size);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button button-small";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove ${path}`);
      remove.addEventListener("click", () => {
        chosen.delete(path);
        render();
      });
      row.insertCell().append(remove);
    }
    table.hidden = chosen.size === 0;
  };

  // The plaza's reasons to refuse these names into the chosen folder (none: all can be sent).
  const problemsWith = async (paths) => {
    const response = await fetch(`${form.action}/check`, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRF-Token": window.plaza.csrfToken(),
      },
      body: JSON.stringify({ folder: form.elements.folder.value, paths }),
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch {
      // Not JSON: the status says enough.
    }
    if (!response.ok) return [answer.error || `The names could not be checked (HTTP ${response.status}).`];
    return answer.problems;
  };

  const refused = (problems) => {
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : "";
    say(`Nothing was sent. ${problems.slice(0, 3).join("; ")}${more}. Rename or remove these files.`, true);
  };

  const add = async (entries) => {
    const tooLarge = entries.filter(({ file }) => file.size > maxFileSize);
    for (const { path, file } of entries) {
      if (file.size <= maxFileSize) chosen.set(path, file);
    }
    render();
    const messages = [];
    if (tooLarge.length) {
      const names = tooLarge.map(({ path }) => path).join(", ");
      messages.push(`Left out ${names}: larger than the limit of ${formatSize(maxFileSize)} a file.`);
    }
    if (chosen.size) messages.push(...(await problemsWith([...chosen.keys()]).catch(() => [])));
    if (messages.length) say(messages.join(" "), true);
    else say(`${chosen.size} file${chosen.size === 1 ? "" : "s"} ready to upload.`);
  };

  // The chosen files are kept in `chosen`; the inputs are emptied so they can be used again.
  for (const input of form.querySelectorAll('input[type="file"]')) {
    input.addEventListener("change", () => {
      add([...input.files].map((file) => ({ path: file.webkitRelativePath || file.name, file })));
      input.value = "";
    });
  }

  // A dropped folder is walked for its files, keeping their paths inside it.
  const readEntries = (reader) => new Promise((resolve, reject) => reader.readEntries(resolve, reject));
  const fileOf = (entry) => new Promise((resolve, reject) => entry.file(resolve, reject));
  const walk = async (entry, found) => {
    if (entry.isFile) {
      found.push({ path: entry.fullPath.replace(/^\//, ""), file: await fileOf(entry) });
      return;
    }
    const reader = entry.createReader();
    for (let batch = await readEntries(reader); batch.length; batch = await readEntries(reader)) {
      for (const child of batch) await walk(child, found);
    }
  };

  const dropped = async (transfer) => {
    // Both read now: a DataTransfer is emptied once the drop event is over.
    const files = [...transfer.files];
    const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
    if (!entries.some((entry) => entry.isDirectory)) return files.map((file) => ({ path: file.name, file }));
    const found = [];
    for (const entry of entries) await walk(entry, found);
    return found;
  };

  for (const name of ["dragenter", "dragover"]) {
    dropzone.addEventListener(name, (event) => {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
  }
  dropzone.addEventListener("dragleave", (event) => {
    if (!dropzone.contains(event.relatedTarget)) dropzone.classList.remove("dragging");
  });
  dropzone.addEventListener("drop", async (event) => {
    event.preventDefault();
    dropzone.classList.remove("dragging");
    add(await dropped(event.dataTransfer));
  });

  const showProgress = (loaded, total) => {
    const percent = total ? Math.floor((loaded / total) * 100) : 100;
    progress.value = percent;
    say(`${percent}% · ${formatSize(loaded)} of ${formatSize(total)}`);
  };

  const failed = (message) => {
    say(message, true);
    submit.disabled = false;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (chosen.size === 0) {
      say("Choose or drop at least one file first.", true);
      return;
    }
    submit.disabled = true;
    const problems = await problemsWith([...chosen.keys()]).catch(() => ["The names could not be checked"]);
    if (problems.length) {
      refused(problems);
      submit.disabled = false;
      return;
    }
    const data = new FormData();
    for (const name of ["folder", "title", "description"]) data.append(name, form.elements[name].value);
    for (const [path, file] of chosen) data.append("files", file, path);

    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-CSRF-Token", window.plaza.csrfToken());
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) showProgress(e.loaded, e.total);
    });
    request.upload.addEventListener("load", () => {
      progress.value = 100;
      say("100% · received; committing…");
    });
    request.addEventListener("load", () => {
      let answer = {};
      try {
        answer = JSON.parse(request.responseText);
      } catch {
        // An HTML error page (an expired form, say): the status says enough.
      }
      if (request.status !== 200) {
        failed(answer.error || `The upload failed (HTTP ${request.status}); nothing was committed.`);
        return;
      }
      progress.value = 100;
      say("100% · committed. Opening the files…");
      setTimeout(() => window.location.assign(answer.files_url), 1000);
    });
    request.addEventListener("error", () => failed("The upload was interrupted; nothing was committed. Try again."));

    progressBox.hidden = false;
    showProgress(0, [...chosen.values()].reduce((sum, file) => sum + file.size, 0));
    request.send(data);
  });
})();
