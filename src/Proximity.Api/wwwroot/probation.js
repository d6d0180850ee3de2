// Probation: offenders of the caseload, their bans and devices' health, a ban editor with a map and feasibility
// warnings, compliance history.
'use strict';
(() => {
  const P = Proximity, $ = id => document.getElementById(id);
  let config = null, map = null, zoneLayers = [], drawn = [], drawLayer = null, draftLayer = null, offender = null, editing = null, bans = [];

  const dayNames = { ma: 'Mon', di: 'Tue', wo: 'Wed', do: 'Thu', vr: 'Fri', za: 'Sat', zo: 'Sun' };

  async function loadOffenders() {
    const list = await P.api('/api/offenders');
    $('offender-list').innerHTML = list.map(o => `<li data-offender-id="${P.escape(o.id)}"><span>${P.escape(o.id)}</span><span>${P.escape(o.name)}</span><span class="muted">${P.escape(o.caseOfficer ?? '')}</span></li>`).join('');
    $('offender-list').querySelectorAll('li').forEach(li => li.addEventListener('click', () => open(li.dataset.offenderId)));
  }

  async function open(id) {
    offender = await P.api(`/api/offenders/${encodeURIComponent(id)}`);
    $('offender-empty').classList.add('hidden');
    $('offender-view').classList.remove('hidden');
    $('offender-title').textContent = `${offender.name} (${offender.id})`;
    $('editor').classList.add('hidden');
    $('ban-status').textContent = '';
    bans = await P.api(`/api/bans?offenderId=${encodeURIComponent(id)}`);
    $('ban-rows').innerHTML = bans.map(b => `<tr data-ban-id="${P.escape(b.id)}"><td>${P.escape(b.id)}</td><td>${P.escape(P.t(b.type))}</td>
      <td>${P.escape(b.legalBasis)}<br><span class="muted">${P.escape(b.issuingAuthority)} · ${P.escape(b.caseReference)}</span></td>
      <td>${b.validUntil ? P.time(b.validUntil) : '–'}</td><td>${b.version}</td><td>${P.escape(P.name(b.status))}</td>
      <td>${b.status === 'Active' ? `<button data-edit="${P.escape(b.id)}">${P.t('editBan')}</button> <button data-end="${P.escape(b.id)}" class="danger">${P.t('endBan')}</button>` : ''}</td></tr>`).join('');
    $('ban-rows').querySelectorAll('[data-edit]').forEach(b => b.addEventListener('click', () => edit(bans.find(x => x.id === b.dataset.edit))));
    $('ban-rows').querySelectorAll('[data-end]').forEach(b => b.addEventListener('click', () => end(b.dataset.end)));
    drawZones();
    await loadDevices(id);
    const c = await P.api(`/api/offenders/${encodeURIComponent(id)}/compliance`);
    const counts = Object.entries(c.alertsByType).map(([k, v]) => `${P.name(k)}: ${v}`).join(' · ');
    $('compliance-counts').textContent = `${P.t('alertsByType')}: ${counts || P.t('none')}`;
    $('compliance-rows').innerHTML = c.alerts.map(a => `<tr><td>${P.time(a.raisedAt)}</td><td><span class="badge sev-${a.severity}">${P.escape(P.name(a.severity))}</span></td>
      <td>${P.escape(P.name(a.type))}</td><td>${P.escape(P.name(a.state))}</td><td class="muted">${P.escape(a.summary)}</td></tr>`).join('');
  }

  // The offender's devices as the live pipeline sees them (never a position); "not known" on a node without it.
  async function loadDevices(id) {
    const devices = (await P.api('/api/devices')).filter(d => d.personId === id);
    const rows = await Promise.all(devices.map(async d => {
      let h = null;
      try { h = await P.api(`/api/devices/${encodeURIComponent(d.id)}/health`); } catch (e) { if (e.status !== 503) throw e; }
      const problem = h && (h.offline ? 'offline' : h.noFix ? 'noFix' : h.strapOpen ? 'strapOpen' : h.bodyContactLost ? 'noContact' : null);
      const state = !h ? 'unknown' : problem ?? 'reporting';
      return `<tr data-device-id="${P.escape(d.id)}" data-state="${state}"><td>${P.escape(d.id)}</td><td>${P.escape(P.name(d.kind))}</td>
        <td><span class="badge ${problem ? 'sev-High' : ''}">${P.escape(P.t(state))}</span></td>
        <td>${h?.batteryPercent != null ? `${P.num(h.batteryPercent)} %` : '–'}</td><td>${P.time(h?.lastMessageAt)}</td></tr>`;
    }));
    $('device-rows').innerHTML = rows.join('') || `<tr><td class="muted" colspan="5">${P.escape(P.t('none'))}</td></tr>`;
  }

  function drawZones() {
    map ??= P.createMap($('map'), config);
    zoneLayers.forEach(l => l.remove());
    zoneLayers = bans.filter(b => b.area && b.status === 'Active').map(b =>
      P.zoneLayer(b.area, { color: b.type === 'inclusion' ? '#2e7d32' : '#b3121f', weight: 2, fillOpacity: 0.15 }).bindTooltip(b.id).addTo(map));
    const home = offender.home ? L.circleMarker([offender.home.latitude, offender.home.longitude], { radius: 5, color: '#333' }).bindTooltip('home').addTo(map) : null;
    if (home) zoneLayers.push(home);
    P.fit(map, zoneLayers);
    setTimeout(() => map.invalidateSize(), 0);
  }

  async function edit(ban) {
    editing = ban ?? null;
    $('editor').classList.remove('hidden');
    $('editor-title').textContent = ban ? `${P.t('editBan')} ${ban.id} (v${ban.version})` : P.t('newBan');
    $('feasibility').innerHTML = '';
    $('editor-error').textContent = '';
    // The form is filled before the victims are fetched: what the officer types meanwhile is not wiped out.
    const b = ban ?? {};
    $('f-type').value = b.type ?? 'exclusion';
    $('f-type').disabled = !!ban;
    $('f-victim').value = b.victimId ?? '';
    $('f-basis').value = b.legalBasis ?? 'Article38vSr';
    $('f-authority').value = b.issuingAuthority ?? '';
    $('f-case').value = b.caseReference ?? '';
    $('f-from').value = local(b.validFrom);
    $('f-until').value = local(b.validUntil);
    $('f-level').value = String(b.monitoringLevel ?? 2);
    $('f-min').value = b.minDistanceMeters ?? '';
    $('f-warn').value = b.warningDistanceMeters ?? '';
    $('f-buffer').value = b.warningBufferMeters ?? '';
    $('f-schedule').value = (b.schedule ?? []).map(w => `${w.days.join(',')} ${w.from}-${w.to}`).join('\n');
    $('f-area').value = b.area ? JSON.stringify(b.area) : '';
    $('f-note').value = '';
    const victims = await P.api('/api/victims');
    const chosen = $('f-victim').value; // picked meanwhile, or the ban's when it was already listed
    $('f-victim').innerHTML = '<option value=""></option>' + victims.map(v => `<option value="${P.escape(v.id)}">${P.escape(v.name)} (${P.escape(v.id)})</option>`).join('');
    $('f-victim').value = b.victimId ?? chosen;
  }

  const local = iso => iso ? new Date(iso).toISOString().slice(0, 16) : '';
  const iso = v => v ? new Date(v + 'Z').toISOString() : null;
  const number = v => v === '' ? null : Number(v);

  function schedule(text) {
    const windows = text.split('\n').map(s => s.trim()).filter(Boolean).map(line => {
      const m = /^([A-Za-z,\s]+)\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/.exec(line);
      if (!m) throw new Error(`${P.t('schedule')}: "${line}"`);
      return { days: m[1].split(',').map(d => d.trim()).filter(Boolean).map(d => dayNames[d.toLowerCase()] ?? d), from: m[2], to: m[3] };
    });
    return windows.length ? windows : null;
  }

  function draft() {
    const type = $('f-type').value;
    const areaText = $('f-area').value.trim();
    let area = null;
    if (type !== 'contact' && areaText) {
      try { area = JSON.parse(areaText); } catch (e) { throw new Error(`${P.t('area')}: ${e.message}`); }
    }
    return {
      id: editing?.id, type, offenderId: offender.id, victimId: type === 'contact' ? ($('f-victim').value || null) : null,
      legalBasis: $('f-basis').value, issuingAuthority: $('f-authority').value, caseReference: $('f-case').value,
      validFrom: iso($('f-from').value), validUntil: iso($('f-until').value), monitoringLevel: Number($('f-level').value),
      minDistanceMeters: type === 'contact' ? number($('f-min').value) : null,
      warningDistanceMeters: type === 'contact' ? number($('f-warn').value) : null,
      warningBufferMeters: type !== 'contact' ? number($('f-buffer').value) : null,
      schedule: schedule($('f-schedule').value), area, note: $('f-note').value || null,
    };
  }

  async function check() {
    $('editor-error').textContent = '';
    try {
      const body = draft();
      draftLayer?.remove();
      draftLayer = body.area ? P.zoneLayer(body.area, { color: '#1f5fbf', weight: 2, dashArray: '6 4', fillOpacity: 0.1 }).addTo(map) : null;
      if (draftLayer) P.fit(map, [draftLayer]);
      const result = await P.api('/api/bans/feasibility', { method: 'POST', body });
      $('feasibility').innerHTML = result.warnings.length
        ? `<strong>${P.t('warnings')}</strong><ul class="warnings">${result.warnings.map(w => `<li data-code="${P.escape(w.code)}">${P.escape(w.message)}</li>`).join('')}</ul>`
        : `<p class="ok">${P.t('noWarnings')}</p>`;
    } catch (e) { $('editor-error').textContent = e.message; }
  }

  async function save() {
    $('editor-error').textContent = '';
    try {
      const body = draft();
      if (editing) await P.api(`/api/bans/${encodeURIComponent(editing.id)}?expectedVersion=${editing.version}`, { method: 'PUT', body });
      else await P.api('/api/bans', { method: 'POST', body });
      await open(offender.id);
      $('ban-status').textContent = P.t('saved');
    } catch (e) { $('editor-error').textContent = e.message; }
  }

  async function end(id) {
    const reason = prompt(P.t('endReason'));
    if (!reason) return;
    try { await P.api(`/api/bans/${encodeURIComponent(id)}/end`, { method: 'POST', body: { reason } }); await open(offender.id); }
    catch (e) { alert(e.message); }
  }

  // Drawing: each click adds a corner; "use drawn polygon" closes the ring and puts it in the GeoJSON field.
  function onMapClick(e) {
    if ($('editor').classList.contains('hidden')) return;
    drawn.push([e.latlng.lng, e.latlng.lat]);
    drawLayer?.remove();
    drawLayer = L.polyline(drawn.map(([x, y]) => [y, x]), { color: '#1f5fbf', dashArray: '3 3' }).addTo(map);
  }

  P.boot(async (me, cfg) => {
    config = cfg;
    $('new-ban').addEventListener('click', () => edit(null));
    $('check').addEventListener('click', check);
    $('save').addEventListener('click', save);
    $('use-drawn').addEventListener('click', () => {
      if (drawn.length < 3) return;
      $('f-area').value = JSON.stringify({ type: 'Polygon', coordinates: [[...drawn, drawn[0]].map(([x, y]) => [+x.toFixed(6), +y.toFixed(6)])] });
    });
    $('clear-drawn').addEventListener('click', () => { drawn = []; drawLayer?.remove(); drawLayer = null; });
    map = P.createMap($('map'), config);
    map.on('click', onMapClick);
    P.onLang(() => offender && open(offender.id));
    await loadOffenders();
  });
})();
