/// The viewer page at `/`: the parcels on a map coloured by their latest light, filters by crop
/// and light, and a parcel's plot and chips on click. Written in the project (no library, nothing
/// fetched from elsewhere): the map is an SVG of the parcels in the lake's CRS, panned by
/// dragging and zoomed with the wheel. Text from the lake is set as text, never as markup; the
/// plot is SVG that lake itself wrote (its texts escaped). `?select=ID` clicks a parcel on load;
/// `?crop=…&light=…` set the filters, `?aoi=…&year=…` the scope.
enum ViewerPage {
    static let html = #"""
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>lake viewer</title>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>
      body { margin: 0; font-family: sans-serif; font-size: 14px; color: #222; display: flex; flex-direction: column; height: 100vh; }
      header { padding: 6px 10px; background: #f3f3f3; border-bottom: 1px solid #ccc; display: flex; gap: 12px; align-items: center; }
      header b { font-size: 16px; }
      main { flex: 1; display: flex; min-height: 0; }
      #map { flex: 1; background: #fafaf7; cursor: grab; }
      #map path { stroke: #555; stroke-width: 1; vector-effect: non-scaling-stroke; cursor: pointer; }
      #map path.green { fill: #4caf50; } #map path.yellow { fill: #fdd835; } #map path.red { fill: #e53935; }
      #map path.grey { fill: #9e9e9e; } #map path.none { fill: #e0e0e0; }
      #map path.selected { stroke: #1e40ff; stroke-width: 3; }
      aside { width: 520px; overflow: auto; border-left: 1px solid #ccc; padding: 10px; }
      aside svg { width: 100%; height: auto; }
      #chips img { width: 160px; height: 160px; image-rendering: pixelated; margin: 2px; border: 1px solid #ccc; }
      .chip { display: inline-block; text-align: center; font-size: 12px; }
      .legend span { display: inline-block; width: 12px; height: 12px; margin: 0 3px 0 8px; vertical-align: middle; border: 1px solid #555; }
    </style></head>
    <body>
    <header><b>lake</b>
      <label>crop <select id="crop"><option value="">every crop</option></select></label>
      <label>light <select id="light"><option value="">every light</option><option>green</option><option>yellow</option><option>red</option><option>grey</option><option>none</option></select></label>
      <span id="count"></span>
      <span class="legend"><span style="background:#4caf50"></span>green<span style="background:#fdd835"></span>yellow<span style="background:#e53935"></span>red<span style="background:#9e9e9e"></span>grey (no check)<span style="background:#e0e0e0"></span>not decided</span>
    </header>
    <main><svg id="map" xmlns="http://www.w3.org/2000/svg"><g id="parcels"></g></svg>
    <aside id="panel"><p id="hint">Click a parcel for its series, markers, light and chips.</p></aside></main>
    <script>
    "use strict";
    const svgNS = "http://www.w3.org/2000/svg";
    const map = document.getElementById("map"), layer = document.getElementById("parcels");
    let view = null, features = [], kx = 1;

    // Geographic lakes (EPSG:4326): longitudes shrunk by the cosine of the latitude, so fields keep their shape.
    function ring(coords) { return "M" + coords.map(c => (c[0] * kx) + "," + (-c[1])).join("L") + "Z"; }
    function pathData(g) {
      if (!g) return "";
      const polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      return polys.map(p => p.map(ring).join("")).join("");
    }
    function setView(v) { view = v; map.setAttribute("viewBox", v.x + " " + v.y + " " + v.w + " " + v.h); }

    function draw(fc) {
      features = fc.features;
      if (fc.srid === 4326 && features.length) {
        const g = features[0].geometry, c = g && (g.type === "Polygon" ? g.coordinates[0][0] : g.coordinates[0][0][0]);
        if (c) kx = Math.cos(c[1] * Math.PI / 180);
      }
      let minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
      const crops = new Set();
      for (const f of features) {
        const d = pathData(f.geometry);
        const path = document.createElementNS(svgNS, "path");
        path.setAttribute("d", d);
        path.setAttribute("class", f.properties.light);
        path.dataset.id = f.properties.id;
        const title = document.createElementNS(svgNS, "title");
        title.textContent = f.properties.id + " · " + f.properties.crop + " · " + f.properties.light;
        path.appendChild(title);
        path.addEventListener("click", () => select(f, path));
        layer.appendChild(path);
        f.path = path;
        crops.add(f.properties.crop);
        for (const m of d.matchAll(/(-?[\d.e+-]+),(-?[\d.e+-]+)/g)) {
          const x = +m[1], y = +m[2];
          if (x < minX) minX = x; if (x > maxX) maxX = x; if (y < minY) minY = y; if (y > maxY) maxY = y;
        }
      }
      const select_ = document.getElementById("crop");
      for (const c of [...crops].sort()) { const o = document.createElement("option"); o.value = c; o.textContent = c; select_.appendChild(o); }
      const pad = 0.03 * (Math.max(maxX - minX, maxY - minY) || 1);
      if (isFinite(minX)) setView({ x: minX - pad, y: minY - pad, w: maxX - minX + 2 * pad, h: maxY - minY + 2 * pad });
      filter();
    }

    function filter() {
      const crop = document.getElementById("crop").value, light = document.getElementById("light").value;
      let shown = 0;
      for (const f of features) {
        const on = (!crop || f.properties.crop === crop) && (!light || f.properties.light === light);
        f.path.style.display = on ? "" : "none";
        if (on) shown++;
      }
      document.getElementById("count").textContent = shown + " of " + features.length + " parcels";
    }
    document.getElementById("crop").addEventListener("change", filter);
    document.getElementById("light").addEventListener("change", filter);

    function select(f, path) {
      for (const p of layer.querySelectorAll("path.selected")) p.classList.remove("selected");
      path.classList.add("selected");
      const panel = document.getElementById("panel");
      panel.replaceChildren();
      const h = document.createElement("h2"); h.textContent = f.properties.id; panel.appendChild(h);
      const p = document.createElement("p");
      p.textContent = f.properties.crop + " · " + f.properties.aoi + " " + f.properties.year + " · light: " + f.properties.light
        + (f.properties.reason ? " (" + f.properties.reason + ")" : "");
      panel.appendChild(p);
      const plot = document.createElement("div"); plot.id = "plot"; plot.textContent = "drawing the series…"; panel.appendChild(plot);
      const chips = document.createElement("div"); chips.id = "chips"; panel.appendChild(chips);
      const q = "id=" + encodeURIComponent(f.properties.id) + "&aoi=" + encodeURIComponent(f.properties.aoi) + "&year=" + f.properties.year;
      fetch("/viewer/plot?" + q).then(r => r.ok ? r.text() : r.json().then(e => Promise.reject(e.error)))
        .then(svg => { const doc = new DOMParser().parseFromString(svg, "image/svg+xml"); plot.replaceChildren(document.importNode(doc.documentElement, true)); plot.dataset.parcel = f.properties.id; })
        .catch(e => { plot.textContent = "no plot: " + e; });
      fetch("/viewer/chips?" + q).then(r => r.ok ? r.json() : r.json().then(e => Promise.reject(e.error)))
        .then(a => {
          if (!a.chips.length) { chips.textContent = "no chips: no cloud-free scene with band files (lake ingest scene)"; return; }
          for (const c of a.chips) {
            const box = document.createElement("div"); box.className = "chip";
            const img = document.createElement("img"); img.src = c.url; img.alt = c.date;
            const label = document.createElement("div"); label.textContent = c.date + " · " + a.look;
            box.append(img, label); chips.appendChild(box);
          }
        })
        .catch(e => { chips.textContent = "no chips: " + e; });
    }

    // Pan by dragging, zoom with the wheel around the cursor.
    let drag = null;
    map.addEventListener("mousedown", e => { drag = { x: e.clientX, y: e.clientY, v: view }; });
    window.addEventListener("mouseup", () => { drag = null; });
    window.addEventListener("mousemove", e => {
      if (!drag || !view) return;
      const s = view.w / map.clientWidth;
      setView({ x: drag.v.x - (e.clientX - drag.x) * s, y: drag.v.y - (e.clientY - drag.y) * s, w: view.w, h: view.h });
    });
    map.addEventListener("wheel", e => {
      if (!view) return;
      e.preventDefault();
      const k = e.deltaY > 0 ? 1.2 : 1 / 1.2, r = map.getBoundingClientRect();
      const fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
      setView({ x: view.x + fx * view.w * (1 - k), y: view.y + fy * view.h * (1 - k), w: view.w * k, h: view.h * k });
    }, { passive: false });

    const params = new URLSearchParams(location.search);
    const scope = new URLSearchParams();
    for (const k of ["aoi", "year"]) if (params.get(k)) scope.set(k, params.get(k));
    fetch("/viewer/parcels?" + scope).then(r => r.ok ? r.json() : r.json().then(e => Promise.reject(e.error)))
      .then(fc => {
        draw(fc);
        // Filters from the address (?crop=…&light=…), so a view can be sent as a link.
        for (const k of ["crop", "light"]) if (params.get(k) !== null) document.getElementById(k).value = params.get(k);
        filter();
        const wanted = params.get("select");
        const f = wanted && features.find(x => x.properties.id === wanted);
        if (f) f.path.dispatchEvent(new MouseEvent("click", { bubbles: true }));
      })
      .catch(e => { document.getElementById("hint").textContent = "cannot load the parcels: " + e; });
    </script>
    </body></html>
    """#
}
