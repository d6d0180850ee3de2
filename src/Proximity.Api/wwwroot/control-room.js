// Control room: live alert list by severity, alert view with map and evidence, acknowledge / dispatch / resolve.
'use strict';
(() => {
  const P = Proximity, $ = id => document.getElementById(id);
  const severityRank = { Critical: 0, High: 1, Warning: 2, Info: 3 };
  const alerts = new Map();
  let selected = null, map = null, layers = [], config = null, soundOn = false, audio = null;

  function sortKey(a) { return [a.state === 'Resolved' ? 1 : 0, severityRank[a.severity] ?? 9, -Date.parse(a.raisedAt)]; }
  function compare(a, b) { const x = sortKey(a), y = sortKey(b); for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i] - y[i]; return 0; }

  function renderList() {
    const list = $('alert-list');
    const items = [...alerts.values()].sort(compare);
    $('no-alerts').classList.toggle('hidden', items.length > 0);
    list.innerHTML = items.map(a => `
      <li data-alert-id="${P.escape(a.id)}" data-state="${a.state}" class="${a.state === 'Resolved' ? 'resolved' : ''} ${a.id === selected ? 'selected' : ''}">
        <span class="badge sev-${a.severity}">${P.escape(P.name(a.severity))}</span>
        <span>${P.escape(P.name(a.type))}<br><span class="muted">${P.escape(a.offenderId)} · ${P.time(a.raisedAt)}</span></span>
        <span class="state">${P.escape(P.name(a.state))}</span>
      </li>`).join('');
    list.querySelectorAll('li').forEach(li => li.addEventListener('click', () => select(li.dataset.alertId)));
  }

  // A short two-tone alarm made with WebAudio, so no sound file has to be shipped.
  function beep() {
    if (!soundOn) return;
    audio ??= new AudioContext();
    [0, 0.35, 0.7].forEach((at, i) => {
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = i % 2 ? 660 : 880;
      gain.gain.value = 0.2;
      osc.connect(gain).connect(audio.destination);
      osc.start(audio.currentTime + at);
      osc.stop(audio.currentTime + at + 0.25);
    });
  }

  // Whether devices are heard at all: while not, no alert can come, so the operators must see it in place of alerts.
  // An outage that ended is shown for half an hour. When this server stops knowing (it cannot reach the cluster's
  // device feed) during an outage, the outage stays shown, marked as not confirmed since then.
  let monitoring = null, unconfirmedSince = null;
  function onMonitoring(m) {
    if (m.deviceFeed === 'Unknown' && monitoring?.deviceFeed === 'Lost') unconfirmedSince ??= new Date().toISOString();
    else {
      if (m.deviceFeed === 'Lost' && monitoring?.deviceFeed !== 'Lost') beep(); // as loud as a critical alert
      monitoring = m; unconfirmedSince = null;
    }
    showMonitoring();
  }

  function showMonitoring() {
    const m = monitoring, el = $('monitoring');
    const recent = m?.heardAgainAt && Date.now() - Date.parse(m.heardAgainAt) < 30 * 60_000;
    const show = m?.deviceFeed === 'Lost' || (m?.deviceFeed === 'Heard' && recent);
    el.dataset.feed = m?.deviceFeed ?? '';
    el.classList.toggle('hidden', !show);
    if (!show) return;
    el.textContent = P.t(m.deviceFeed === 'Lost' ? 'feedLost' : 'feedBack')
      .replace('{lost}', P.time(m.lostSince)).replace('{back}', P.time(m.heardAgainAt))
      + (unconfirmedSince ? P.t('feedUnconfirmed').replace('{at}', P.time(unconfirmedSince)) : '');
  }

  function onEvent(kind, a) {
    if (kind === 'ready') return;
    if (kind === 'monitoring') { onMonitoring(a); return; }
    const known = alerts.get(a.id);
    if (known && known.revision > a.revision) return;
    alerts.set(a.id, a);
    renderList();
    if (kind === 'raised' && a.severity === 'Critical') {
      beep();
      document.querySelector(`[data-alert-id="${CSS.escape(a.id)}"]`)?.classList.add('flash');
    }
    if (a.id === selected && kind !== 'snapshot') showState(a);
  }

  function showState(a) {
    $('alert-state').textContent = P.name(a.state);
    $('alert-state').dataset.state = a.state;
    $('ack').disabled = a.state !== 'Open';
    $('dispatch').disabled = !(a.state === 'Open' || a.state === 'Acknowledged');
    $('resolve').disabled = a.state === 'Resolved';
  }

  function reason() { return $('read-reason').value.trim() || P.t('defaultReason'); }

  async function select(id) {
    selected = id;
    renderList();
    $('alert-empty').classList.add('hidden');
    $('alert-detail').classList.remove('hidden');
    $('action-error').textContent = '';
    const enc = encodeURIComponent(id);
    try {
      const [detail, mapData] = await Promise.all([
        P.api(`/api/alerts/${enc}`, { reason: reason() }),
        P.api(`/api/alerts/${enc}/map`, { reason: reason() }),
      ]);
      if (selected !== id) return;
      const r = detail.record, a = r.alert;
      $('alert-badge').className = `badge sev-${a.severity}`;
      $('alert-badge').textContent = P.name(a.severity);
      $('alert-title').textContent = P.name(a.type);
      $('alert-raised').textContent = P.time(a.raisedAt);
      $('alert-offender').textContent = a.offenderId;
      $('alert-victim-wrap').classList.toggle('hidden', !a.victimId);
      $('alert-victim').textContent = a.victimId ?? '';
      showState({ state: r.state });
      $('evidence-text').textContent = explain(a);
      $('distance').textContent = mapData.distanceMeters != null
        ? `${P.t('distance')}: ${P.num(mapData.distanceMeters)} m` + (mapData.minDistanceMeters ? ` (min. ${P.num(mapData.minDistanceMeters)} m)` : '') : '';
      $('victim-hidden').classList.toggle('hidden', !mapData.victimPositionHidden);
      $('alert-actions').innerHTML = r.actions.map(x =>
        `<tr><td>${P.time(x.at)}</td><td>${P.escape(P.name({ acknowledged: 'Acknowledged', dispatched: 'Dispatched', resolved: 'Resolved' }[x.action] ?? x.action))}</td>
         <td>${P.escape(x.user)}</td><td>${P.escape(x.note ?? '')}</td></tr>`).join('');
      drawMap(mapData, a.evidence.fixes);
    } catch (e) {
      $('action-error').textContent = e.message;
    }
  }

  function drawMap(m, evidence) {
    map ??= P.createMap($('map'), config);
    layers.forEach(l => l.remove());
    layers = [];
    for (const z of m.zones) {
      const colour = z.kind === 'inclusion' ? '#2e7d32' : '#b3121f';
      layers.push(P.zoneLayer(z.area, { color: colour, weight: 2, fillOpacity: 0.15 }).bindTooltip(`${P.t(z.kind)} ${z.banId}`));
    }
    const party = (p, colour, label) => {
      if (!p) return;
      if (p.track.length > 1) layers.push(L.polyline(p.track.map(x => [x.latitude, x.longitude]), { color: colour, weight: 2, opacity: 0.7, dashArray: '4 4' }));
      if (p.last) {
        layers.push(L.circle([p.last.latitude, p.last.longitude], { radius: p.last.accuracyMeters, color: colour, weight: 1, fillOpacity: 0.2 }));
        layers.push(L.circleMarker([p.last.latitude, p.last.longitude], { radius: 6, color: colour, fillColor: colour, fillOpacity: 1 })
          .bindTooltip(`${label} · ${P.time(p.last.timestamp)} · ±${P.num(p.last.accuracyMeters)} m`));
      }
    };
    // The fixes the decision used, with their accuracy circles (shown even when no position history is kept).
    for (const f of evidence ?? []) {
      const colour = f.role === 'victim' ? '#1f5fbf' : '#b3121f';
      layers.push(L.circle([f.latitude, f.longitude], { radius: f.accuracyMeters, color: colour, weight: 1, dashArray: '2 3', fillOpacity: 0.08 })
        .bindTooltip(`${P.t(f.role)} · ${P.t('evidence')} · ${P.time(f.timestamp)} · ±${P.num(f.accuracyMeters)} m`));
      layers.push(L.circleMarker([f.latitude, f.longitude], { radius: 4, color: colour, fillColor: '#fff', fillOpacity: 1, weight: 2 }));
    }
    party(m.offender, '#b3121f', P.t('offender'));
    party(m.victim, '#1f5fbf', P.t('victim'));
    if (m.offender?.last && m.victim?.last)
      layers.push(L.polyline([[m.offender.last.latitude, m.offender.last.longitude], [m.victim.last.latitude, m.victim.last.longitude]],
        { color: '#333', weight: 1 }).bindTooltip(`${P.num(m.distanceMeters)} m`, { permanent: true }));
    layers.forEach(l => l.addTo(map));
    P.fit(map, layers);
    setTimeout(() => map.invalidateSize(), 0);
  }

  // The decision's evidence in plain words, from its numbers (the server's own summary is English only).
  function explain(a) {
    const e = a.evidence, nl = P.lang === 'nl', n = v => P.num(v);
    const parts = [];
    const off = e.fixes.find(f => f.role === 'offender'), vic = e.fixes.find(f => f.role === 'victim');
    if (e.distanceMeters != null && e.limitMeters != null)
      parts.push(nl ? `De betrokkene was ${n(e.distanceMeters)} m van het slachtoffer; de grens is ${n(e.limitMeters)} m.`
                    : `The offender was ${n(e.distanceMeters)} m from the victim; the limit is ${n(e.limitMeters)} m.`);
    else if (e.boundaryDistanceMeters != null)
      parts.push(nl ? `De betrokkene was ${n(e.boundaryDistanceMeters)} m ${e.insideZone ? 'binnen' : 'buiten'} het gebied.`
                    : `The offender was ${n(e.boundaryDistanceMeters)} m ${e.insideZone ? 'inside' : 'outside'} the zone.`);
    if (e.certainty === 'Certain')
      parts.push(nl ? `Ook met de onzekerheid van de posities (±${n(e.uncertaintyMeters)} m) is dit zeker.`
                    : `Even allowing for the uncertainty of the positions (±${n(e.uncertaintyMeters)} m) this is certain.`);
    else if (e.certainty)
      parts.push(nl ? `Dit is mogelijk maar niet zeker (onzekerheid ±${n(e.uncertaintyMeters)} m).` : `This is possible but not certain (uncertainty ±${n(e.uncertaintyMeters)} m).`);
    if (e.runFixes > 1)
      parts.push(nl ? `${e.runFixes} opeenvolgende posities wezen hierop, gemiddeld ${n(e.runMeanDepthMeters)} m over de grens.`
                    : `${e.runFixes} consecutive positions pointed to this, on average ${n(e.runMeanDepthMeters)} m past the limit.`);
    if (e.closingSpeedMetersPerSecond > 0)
      parts.push(nl ? `Naderingssnelheid ${P.num(e.closingSpeedMetersPerSecond, 1)} m/s.` : `Closing at ${P.num(e.closingSpeedMetersPerSecond, 1)} m/s.`);
    if (off) parts.push(nl ? `Positie betrokkene: nauwkeurigheid ±${n(off.accuracyMeters)} m, ${n(off.ageSeconds)} s oud.`
                           : `Offender's position: accuracy ±${n(off.accuracyMeters)} m, ${n(off.ageSeconds)} s old.`);
    if (vic) parts.push(nl ? `Positie slachtoffer: nauwkeurigheid ±${n(vic.accuracyMeters)} m, ${n(vic.ageSeconds)} s oud.`
                           : `Victim's position: accuracy ±${n(vic.accuracyMeters)} m, ${n(vic.ageSeconds)} s old.`);
    if (a.late) parts.push(nl ? 'Let op: de posities kwamen laat binnen (opgeslagen en later verzonden).' : 'Note: the positions arrived late (stored and forwarded).');
    if (a.clearedAt) parts.push(nl ? `De situatie is beëindigd om ${P.time(a.clearedAt)}.` : `The condition ended at ${P.time(a.clearedAt)}.`);
    return parts.length ? parts.join(' ') : e.summary;
  }

  async function act(path, body) {
    $('action-error').textContent = '';
    try {
      const r = await P.api(`/api/alerts/${encodeURIComponent(selected)}/${path}`, { method: 'POST', body });
      showState(r);
      select(selected);
    } catch (e) { $('action-error').textContent = e.message; }
  }

  P.boot(async (me, cfg) => {
    config = cfg;
    $('read-reason').value = P.t('defaultReason');
    $('ack').addEventListener('click', () => act('acknowledge', {}));
    $('dispatch').addEventListener('click', () => act('dispatch', { unit: $('unit').value }));
    $('resolve').addEventListener('click', () => act('resolve', { reason: $('resolve-reason').value }));
    $('sound').addEventListener('click', () => {
      soundOn = !soundOn;
      audio ??= new AudioContext(); // browsers allow audio only after a click
      $('sound').dataset.i18n = soundOn ? 'soundOn' : 'soundOff';
      P.applyTranslations();
    });
    P.onLang(() => { renderList(); showMonitoring(); if (selected) select(selected); });
    setInterval(showMonitoring, 60_000); // the notice of an ended outage goes after half an hour
    // The list: everything recent, then live changes (the stream starts with a snapshot of the open alerts).
    for (const a of await P.api('/api/alerts?limit=200')) alerts.set(a.id, a);
    renderList();
    P.stream('/api/alerts/stream', onEvent, s => {
      $('feed-status').textContent = P.t(s);
      $('feed-status').dataset.status = s;
    });
  });
})();
