// SPDX-License-Identifier: AGPL-3.0-or-later
// map.js - the console's offline map: Leaflet (from npm, served by amaned)
// with no tiles at all. The layers come from amaned: the road graph
// (/api/v1/map/roads), the regions, prefectures and police sectors
// (/api/v1/map/boundaries). Units and incidents are drawn on one canvas of
// our own, redrawn at most once per animation frame, so that thousands of
// moving units cost one pass over an array, not thousands of DOM nodes.
//
// Status is never shown by colour alone: each unit status has its own
// shape, each incident its priority digit.
/* global L */

export const UNIT_STYLE = {
  available: { color: '#2fa36b', shape: 'circle' },
  dispatched: { color: '#f0a020', shape: 'triangle', hollow: true }, /* told, not yet moving */
  en_route: { color: '#f0a020', shape: 'triangle' },
  on_scene: { color: '#e0483e', shape: 'square' },
  transporting: { color: '#a463d6', shape: 'square' },
  at_station: { color: '#8a9aa8', shape: 'diamond' },
  out_of_service: { color: '#5c6670', shape: 'cross' },
};
export const PRIO_COLOR = { 1: '#e0483e', 2: '#f07f20', 3: '#d8b020', 4: '#4a90d9' };

function drawShape(ctx, shape, x, y, r) {
  ctx.beginPath();
  if (shape === 'circle') {
    ctx.arc(x, y, r, 0, 2 * Math.PI);
  } else if (shape === 'triangle') {
    ctx.moveTo(x, y - r * 1.2); ctx.lineTo(x + r * 1.1, y + r * 0.8); ctx.lineTo(x - r * 1.1, y + r * 0.8); ctx.closePath();
  } else if (shape === 'square') {
    ctx.rect(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8);
  } else if (shape === 'diamond') {
    ctx.moveTo(x, y - r * 1.2); ctx.lineTo(x + r * 1.2, y); ctx.lineTo(x, y + r * 1.2); ctx.lineTo(x - r * 1.2, y); ctx.closePath();
  } else {
    ctx.moveTo(x - r, y - r); ctx.lineTo(x + r, y + r); ctx.moveTo(x + r, y - r); ctx.lineTo(x - r, y + r);
  }
}

export function legendShape(status) {
  const s = UNIT_STYLE[status] || UNIT_STYLE.out_of_service;
  const c = document.createElement('canvas');
  c.width = c.height = 18;
  c.className = 'shape';
  const ctx = c.getContext('2d');
  ctx.fillStyle = s.color;
  ctx.strokeStyle = s.shape === 'cross' ? s.color : '#0b1118';
  ctx.lineWidth = s.shape === 'cross' ? 3 : 1.5;
  drawShape(ctx, s.shape, 9, 9, 6);
  if (s.hollow) { ctx.strokeStyle = s.color; ctx.lineWidth = 2.5; } else if (s.shape !== 'cross') ctx.fill();
  ctx.stroke();
  return c;
}

export class CadMap {
  constructor(el, { onPick, onSelect }) {
    this.map = L.map(el, { zoomAnimation: false, fadeAnimation: false, markerZoomAnimation: false,
      preferCanvas: true, attributionControl: true, zoomControl: true, keyboard: true })
      .setView([33.5731, -7.5898], 13);
    this.map.attributionControl.setPrefix(false);
    this.map.attributionControl.addAttribution('© OpenStreetMap contributors (ODbL)');
    this.renderer = L.canvas({ padding: 0.2 });
    this.units = new Map(); // callsign -> {lat, lon, status, shownAt}
    this.incidents = new Map(); // number -> {lat, lon, priority}
    this.selected = null;
    this.pick = null; // the intake's chosen point
    this.dirty = true;
    this.frames = 0;
    this.latencies = []; // ms from a position's device time to the frame that drew it
    this.sprites = new Map();
    this.onPick = onPick;
    this.onSelect = onSelect;
    // A pane of its own inside the map (above the roads, below popups), the canvas kept over
    // the view by moving it against the pane at each draw.
    this.map.createPane('cad').style.zIndex = 450;
    this.canvas = L.DomUtil.create('canvas', 'cad-layer', this.map.getPane('cad'));
    // The canvas sits in a pane that moves with the map while it is dragged: it is redrawn
    // when the view settles or the data change, not on every step of a drag.
    this.map.on('moveend zoomend resize viewreset', () => { this.dirty = true; });
    this.map.on('resize', () => this.resize());
    this.map.on('click', (e) => this.click(e));
    this.resize();
    const loop = () => {
      this.frames++;
      if (this.dirty) this.draw();
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  }

  resize() {
    const size = this.map.getSize();
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = size.x * dpr;
    this.canvas.height = size.y * dpr;
    this.canvas.style.width = `${size.x}px`;
    this.canvas.style.height = `${size.y}px`;
    this.dirty = true;
  }

  async loadLayers(api) {
    const roads = await api('GET', '/api/v1/map/roads').catch(() => null);
    if (roads && roads.status === 200) {
      const weight = { motorway: 4, trunk: 3.5, primary: 3, secondary: 2.5, tertiary: 2 };
      const lines = roads.data.lines;
      const byClass = new Map();
      for (const l of lines) {
        const pts = [];
        for (let i = 1; i + 1 < l.length; i += 2) pts.push([l[i], l[i + 1]]);
        const k = l[0];
        if (!byClass.has(k)) byClass.set(k, []);
        byClass.get(k).push(pts);
      }
      for (const [k, polys] of byClass) {
        const cls = roads.data.classes[k];
        L.polyline(polys, { renderer: this.renderer, color: '#4d6072', weight: weight[cls] || 1.5,
          opacity: 0.9, interactive: false }).addTo(this.map);
      }
      if (lines.length) {
        const b = L.latLngBounds([]);
        for (const l of lines) b.extend([l[1], l[2]]);
        this.map.fitBounds(b, { padding: [10, 10] });
      }
    }
    const styles = {
      region: { color: '#6f8aa3', weight: 2, fill: false, dashArray: '6 4' },
      prefecture: { color: '#56708a', weight: 1.5, fill: false },
      sector: { color: '#2f8fde', weight: 1, fillColor: '#2f8fde', fillOpacity: 0.04 },
    };
    for (const level of ['region', 'prefecture', 'sector']) {
      const r = await api('GET', `/api/v1/map/boundaries?level=${level}`).catch(() => null);
      if (!r || r.status !== 200) continue;
      L.geoJSON(r.data, { renderer: this.renderer, style: styles[level], interactive: false }).addTo(this.map);
    }
  }

  setUnit(callsign, u) {
    const prev = this.units.get(callsign);
    if (prev) Object.assign(prev, u); else this.units.set(callsign, { ...u });
    this.dirty = true;
  }

  setIncident(number, inc) {
    if (inc) this.incidents.set(number, inc); else this.incidents.delete(number);
    this.dirty = true;
  }

  select(kind, id) {
    this.selected = id ? { kind, id } : null;
    this.dirty = true;
  }

  setPick(lat, lon) {
    this.pick = lat === null ? null : { lat, lon };
    this.dirty = true;
  }

  centre(lat, lon) {
    if (!this.map.getBounds().pad(-0.1).contains([lat, lon])) this.map.panTo([lat, lon]);
  }

  // A sprite per look (unit status, incident priority, selected or not), drawn once at the
  // screen's pixel ratio: a frame is then one drawImage per visible object.
  sprite(key, w, h, paint) {
    let c = this.sprites.get(key);
    if (!c) {
      const dpr = window.devicePixelRatio || 1;
      c = document.createElement('canvas');
      c.width = Math.ceil(w * dpr);
      c.height = Math.ceil(h * dpr);
      const ctx = c.getContext('2d');
      ctx.scale(dpr, dpr);
      paint(ctx);
      c.w = w;
      c.h = h;
      this.sprites.set(key, c);
    }
    return c;
  }

  unitSprite(status, selected) {
    return this.sprite(`u:${status}:${selected}`, 20, 20, (ctx) => {
      const s = UNIT_STYLE[status] || UNIT_STYLE.out_of_service;
      drawShape(ctx, s.shape, 10, 10, 6);
      if (s.shape === 'cross' || s.hollow) {
        ctx.strokeStyle = s.color;
        ctx.lineWidth = 3;
      } else {
        ctx.fillStyle = s.color;
        ctx.fill();
        ctx.strokeStyle = selected ? '#ffd24a' : '#0b1118';
        ctx.lineWidth = selected ? 3 : 1.5;
      }
      ctx.stroke();
    });
  }

  incidentSprite(priority, selected) {
    return this.sprite(`i:${priority}:${selected}`, 22, 28, (ctx) => {
      ctx.beginPath();
      ctx.moveTo(11, 26);
      ctx.arc(11, 11, 8, Math.PI * 0.75, Math.PI * 0.25);
      ctx.closePath();
      ctx.fillStyle = PRIO_COLOR[priority] || '#888';
      ctx.fill();
      ctx.strokeStyle = selected ? '#ffd24a' : '#fff';
      ctx.lineWidth = selected ? 3 : 1.5;
      ctx.stroke();
      ctx.fillStyle = '#111';
      ctx.font = 'bold 10px "DejaVu Sans", sans-serif';
      ctx.textAlign = 'center';
      ctx.textBaseline = 'middle';
      ctx.fillText(String(priority), 11, 11);
    });
  }

  // An object's position in the map's pixel space at the current zoom, computed once per
  // position and zoom; per frame only the offset of the view changes.
  projected(o, zoom) {
    if (o.pz !== zoom || o.plat !== o.lat || o.plon !== o.lon) {
      const p = this.map.project([o.lat, o.lon], zoom);
      o.px = p.x;
      o.py = p.y;
      o.pz = zoom;
      o.plat = o.lat;
      o.plon = o.lon;
    }
    return o;
  }

  draw() {
    this.dirty = false;
    const m = this.map;
    const ctx = this.canvas.getContext('2d');
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const size = m.getSize();
    ctx.clearRect(0, 0, size.x, size.y);
    const zoom = m.getZoom();
    // container point = projected point - (pixel origin + layer point of the container's corner)
    const po = m.getPixelOrigin(), corner = m.containerPointToLayerPoint([0, 0]);
    const ox = po.x + corner.x, oy = po.y + corner.y;
    L.DomUtil.setPosition(this.canvas, corner);
    const sel = this.selected;
    for (const [number, inc] of this.incidents) {
      const q = this.projected(inc, zoom);
      const x = q.px - ox, y = q.py - oy;
      if (x < -20 || y < -30 || x > size.x + 20 || y > size.y + 10) continue;
      const img = this.incidentSprite(inc.priority, !!sel && sel.kind === 'incident' && sel.id === number);
      ctx.drawImage(img, x - 11, y - 26, img.w, img.h);
    }
    const now = Date.now();
    for (const [callsign, u] of this.units) {
      if (u.lat === undefined) continue;
      const q = this.projected(u, zoom);
      const x = q.px - ox, y = q.py - oy;
      if (x < -10 || y < -10 || x > size.x + 10 || y > size.y + 10) continue;
      const img = this.unitSprite(u.status, !!sel && sel.id === callsign);
      ctx.drawImage(img, x - 10, y - 10, img.w, img.h);
      if (u.sentMs) {
        // Device to screen: the report's own time to this frame (one clock on the demo machine).
        if (this.latencies.length < 100000) this.latencies.push(now - u.sentMs);
        u.sentMs = 0;
      }
    }
    if (this.pick) {
      const p = m.latLngToContainerPoint([this.pick.lat, this.pick.lon]);
      ctx.strokeStyle = '#ffd24a';
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(p.x, p.y, 10, 0, 2 * Math.PI);
      ctx.moveTo(p.x - 15, p.y); ctx.lineTo(p.x + 15, p.y);
      ctx.moveTo(p.x, p.y - 15); ctx.lineTo(p.x, p.y + 15);
      ctx.stroke();
    }
  }

  // A click picks the nearest unit or incident within 12 px, else the point (for the intake).
  click(e) {
    const p = e.containerPoint;
    let best = null;
    let bestD = 12 * 12;
    for (const [number, inc] of this.incidents) {
      const q = this.map.latLngToContainerPoint([inc.lat, inc.lon]);
      const d = (q.x - p.x) ** 2 + (q.y - 13 - p.y) ** 2;
      if (d < bestD) { bestD = d; best = { kind: 'incident', id: number }; }
    }
    for (const [callsign, u] of this.units) {
      if (u.lat === undefined) continue;
      const q = this.map.latLngToContainerPoint([u.lat, u.lon]);
      const d = (q.x - p.x) ** 2 + (q.y - p.y) ** 2;
      if (d < bestD) { bestD = d; best = { kind: 'unit', id: callsign }; }
    }
    if (best) this.onSelect(best.kind, best.id);
    else this.onPick(e.latlng.lat, e.latlng.lng);
  }
}
