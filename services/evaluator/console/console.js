// Prospector's anomaly console: live progress, the ranked gallery, labelling.
// Plain JavaScript with no build step and no external URL, so the evaluator serves it
// from its own binary and it works on an observatory network with no internet.
"use strict";

const state = { offset: 0, total: 0 };
const COUNT_METRICS = new Set(["sources_scored", "sources_labelled", "exotic_labelled"]);
const $ = (id) => document.getElementById(id);

function authHeaders() {
  const token = $("token").value.trim();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function getJson(path) {
  const response = await fetch(path, { headers: authHeaders() });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

function fmt(value, digits = 3) {
  return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

async function refreshImages() {
  const images = await getJson("/api/images");
  const body = $("images").querySelector("tbody");
  const select = $("filter-image");
  body.replaceChildren();
  for (const image of images) {
    const row = body.insertRow();
    row.dataset.imageId = image.image_id;
    const done = image.sources_found ? image.sources_scored / image.sources_found : 0;
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = image.stage === "complete" ? 1 : done;
    for (const text of [
      image.image_id.slice(0, 12),
      image.stage,
      `${image.tiles_done}/${image.tiles_total ?? "?"}`,
      image.sources_found,
      image.sources_scored,
    ]) {
      row.insertCell().textContent = text;
    }
    row.insertCell().append(bar);
    if (![...select.options].some((o) => o.value === image.image_id)) {
      select.add(new Option(image.image_id.slice(0, 12), image.image_id));
    }
  }
}

async function refreshMetrics() {
  const metrics = await getJson("/api/metrics");
  for (const dd of document.querySelectorAll("#metrics dd")) {
    const value = metrics[dd.dataset.metric];
    // Counts print whole; ratios always with three decimals (an AUC of 1 is "1.000").
    dd.textContent = COUNT_METRICS.has(dd.dataset.metric) ? String(value ?? "–") : fmt(value);
  }
  $("model-versions").textContent = (metrics.model_versions || [])
    .map((v) => `model ${v.slice(0, 10)}`)
    .join(", ");
}

function queryString() {
  const params = new URLSearchParams({ offset: state.offset, limit: $("page-size").value });
  const image = $("filter-image").value;
  const min = $("filter-min").value;
  const label = $("filter-label").value;
  if (image) params.set("image_id", image);
  if (min !== "") params.set("min_anomaly", min);
  if (label === "unlabelled") params.set("unlabelled_only", "true");
  else if (label) params.set("label", label);
  return params.toString();
}

function renderCard(source) {
  const card = $("card").content.firstElementChild.cloneNode(true);
  card.dataset.sourceId = source.source_id;
  card.dataset.label = source.label || "";
  for (const kind of ["input", "reconstruction", "residual"]) {
    card.querySelector(`img.${kind}`).src = `/api/sources/${encodeURIComponent(source.source_id)}/${kind}.png`;
  }
  card.querySelector(".rank").textContent = `#${source.rank}`;
  card.querySelector(".name").textContent = source.name;
  card.querySelector(".position").textContent =
    `RA ${fmt(source.ra_deg, 5)}°, Dec ${fmt(source.dec_deg, 5)}° · image ${source.image_id.slice(0, 12)}`;
  card.querySelector(".scores").textContent =
    `anomaly ${fmt(source.anomaly)} · NCC ${fmt(source.ncc)} · rarity ${fmt(source.code_rarity)} · ` +
    `peak ${fmt(source.peak_flux_jy_beam * 1e3)} mJy/beam`;
  card.querySelector(".label").textContent = source.label || "unlabelled";
  card.querySelector(".labeller").textContent = source.labeller ? `by ${source.labeller}` : "";
  for (const button of card.querySelectorAll("button[data-label]")) {
    button.addEventListener("click", () => submitLabel(source.source_id, button.dataset.label, card));
  }
  return card;
}

async function refreshGallery() {
  const page = await getJson(`/api/anomalies?${queryString()}`);
  state.total = page.total;
  $("gallery").replaceChildren(...page.sources.map(renderCard));
  const size = Number($("page-size").value);
  const first = page.total ? state.offset + 1 : 0;
  $("page-info").textContent = `${first}–${Math.min(state.offset + size, page.total)} of ${page.total}`;
  $("prev").disabled = state.offset === 0;
  $("next").disabled = state.offset + size >= page.total;
}

async function submitLabel(sourceId, label, card) {
  const labeller = $("labeller").value.trim();
  if (!labeller) {
    $("status").textContent = "Enter your name as labeller first.";
    $("labeller").focus();
    return;
  }
  const response = await fetch("/api/labels", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify({ labels: [{ source_id: sourceId, label, labeller }] }),
  });
  if (!response.ok) {
    $("status").textContent = `Label not saved: ${response.status} ${await response.text()}`;
    return;
  }
  card.dataset.label = label;
  card.querySelector(".label").textContent = label;
  card.querySelector(".labeller").textContent = `by ${labeller}`;
  $("status").textContent = `Labelled ${sourceId} as ${label}.`;
  await refreshMetrics();
}

async function refreshAll() {
  try {
    await Promise.all([refreshImages(), refreshMetrics(), refreshGallery()]);
  } catch (error) {
    $("status").textContent = String(error);
  }
}

$("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  state.offset = 0;
  refreshGallery().catch((e) => ($("status").textContent = String(e)));
});
$("prev").addEventListener("click", () => {
  state.offset = Math.max(0, state.offset - Number($("page-size").value));
  refreshGallery().catch((e) => ($("status").textContent = String(e)));
});
$("next").addEventListener("click", () => {
  state.offset += Number($("page-size").value);
  refreshGallery().catch((e) => ($("status").textContent = String(e)));
});
for (const id of ["labeller", "token"]) {
  $(id).value = localStorage.getItem(`prospector.${id}`) || "";
  $(id).addEventListener("change", () => localStorage.setItem(`prospector.${id}`, $(id).value));
}
refreshAll();
// Live panels refresh on their own; the gallery only on request so a page being read does not move.
setInterval(() => Promise.all([refreshImages(), refreshMetrics()]).catch(() => {}), 5000);
