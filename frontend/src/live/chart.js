// A time-series chart of numbers, on uPlot: the last `keep` points, redrawn as they arrive.

import uPlot from "uplot";

const COLORS = ["#2f6fed", "#1fa35c", "#e0a21b", "#c62f3b", "#5b3fc4", "#0f9aa8"];

/** A design token of the page, or `fallback` on pages without Roomcast's tokens. */
function token(name, fallback) {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export class TimeChart {
  /** `labels` name the series; one colour each from the tokens' palette. */
  constructor(element, labels, keep = 100) {
    this.element = element;
    this.keep = keep;
    this.times = [];
    this.series = labels.map(() => []);
    const width = Math.max(element.clientWidth || 0, 240);
    const options = {
      width,
      height: Number(element.getAttribute("data-live-height")) || 200,
      series: [
        {},
        ...labels.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 2 })),
      ],
      axes: [0, 1].map(() => ({
        stroke: token("--color-muted", "#656b78"),
        grid: { stroke: token("--color-border", "#dcdfe633"), width: 1 },
        ticks: { stroke: token("--color-border", "#dcdfe6"), width: 1 },
      })),
      legend: { show: labels.length > 1 },
    };
    this.plot = new uPlot(options, [this.times, ...this.series], element);
    if (typeof ResizeObserver === "function") {
      this.resizer = new ResizeObserver(() => {
        const w = Math.max(element.clientWidth || 0, 240);
        if (w !== this.plot.width) this.plot.setSize({ width: w, height: this.plot.height });
      });
      this.resizer.observe(element);
    }
  }

  /** Add a point at `tsMs` (values in series order; null leaves a gap). */
  add(tsMs, values) {
    this.times.push(tsMs / 1000);
    values.forEach((value, i) => this.series[i].push(value));
    if (this.times.length > this.keep) {
      this.times.shift();
      for (const s of this.series) s.shift();
    }
    this.plot.setData([this.times, ...this.series]);
    this.element.dataset.livePoints = String(this.times.length); // for tests and page CSS
  }

  get points() {
    return this.times.length;
  }
}
