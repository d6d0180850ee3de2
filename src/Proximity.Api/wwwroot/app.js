// Shared by the pages: sign-in token, language, API calls with problem details, live stream, map helpers.
'use strict';

const Proximity = (() => {
  const TOKEN_KEY = 'proximity.token', LANG_KEY = 'proximity.lang';
  const dict = {
    en: {
      appTitle: 'Proximity', controlRoom: 'Control room', probation: 'Probation', signOut: 'Sign out',
      signInTitle: 'Sign in', signInHelp: 'Paste a bearer token (for development: proximity token --role MonitoringCentre --user NAME).',
      signIn: 'Sign in', language: 'Language', alerts: 'Alerts', noAlerts: 'No alerts.', selectAlert: 'Select an alert.',
      acknowledge: 'Acknowledge', dispatch: 'Dispatch unit', resolve: 'Resolve', unit: 'Unit', resolveReason: 'Reason for resolving',
      readReason: 'Reason for viewing location data', defaultReason: 'Alert handling', sound: 'Sound for critical alerts',
      soundOn: 'Sound on', soundOff: 'Sound off', evidence: 'Evidence', distance: 'Distance', offender: 'Offender', victim: 'Victim',
      victimHidden: 'The victim\'s position is not shown (only to the control rooms while the alert is open).',
      history: 'History', raisedAt: 'Raised', state: 'State', live: 'live', connecting: 'connecting…', disconnected: 'disconnected, retrying…',
      offenders: 'Offenders', bans: 'Bans', compliance: 'Compliance history', newBan: 'New ban', editBan: 'Amend ban', endBan: 'End ban',
      type: 'Type', legalBasis: 'Legal basis', authority: 'Issuing authority', caseRef: 'Case reference', validFrom: 'Valid from',
      validUntil: 'Valid until', schedule: 'Schedule', scheduleHelp: 'e.g. Mon,Tue,Wed 22:00-06:00; one window per line; empty = always',
      level: 'Monitoring level', minDistance: 'Minimum distance (m)', warnDistance: 'Warning distance (m)', buffer: 'Warning buffer (m)',
      area: 'Area (GeoJSON)', drawHelp: 'Click the map to add corners, then “Use drawn polygon”; or paste GeoJSON.', useDrawn: 'Use drawn polygon',
      clearDrawn: 'Clear drawing', check: 'Check feasibility', save: 'Save', noWarnings: 'No warnings.', warnings: 'Warnings',
      saved: 'Saved.', endReason: 'Reason for ending', version: 'Version', status: 'Status', note: 'Note', alertsByType: 'Alerts by type',
      none: 'none', selectOffender: 'Select an offender.', contact: 'Contact ban', exclusion: 'Exclusion zone', inclusion: 'Inclusion zone',
      accuracy: 'accuracy', position: 'position', track: 'track', zone: 'zone',
      devices: 'Devices', device: 'Device', battery: 'Battery', lastReport: 'Last report', reporting: 'reporting',
      offline: 'offline', noFix: 'no position fix', strapOpen: 'strap opened', noContact: 'no skin contact', unknown: 'not known on this server',
      feedLost: 'No device has been heard since {lost}: breaches, SOS calls and silent devices cannot be detected until the devices are heard again.',
      feedBack: 'Devices heard again since {back} (not heard from {lost}); what they stored meanwhile is judged as it arrives, marked late.',
      feedUnconfirmed: ' Not confirmed since {at}: this server cannot reach the cluster\'s device feed.',
    },
    nl: {
      appTitle: 'Proximity', controlRoom: 'Meldkamer', probation: 'Reclassering', signOut: 'Afmelden',
      signInTitle: 'Aanmelden', signInHelp: 'Plak een bearer-token (voor ontwikkeling: proximity token --role MonitoringCentre --user NAAM).',
      signIn: 'Aanmelden', language: 'Taal', alerts: 'Meldingen', noAlerts: 'Geen meldingen.', selectAlert: 'Kies een melding.',
      acknowledge: 'Bevestigen', dispatch: 'Eenheid sturen', resolve: 'Afhandelen', unit: 'Eenheid', resolveReason: 'Reden van afhandeling',
      readReason: 'Reden voor het inzien van locatiegegevens', defaultReason: 'Afhandeling melding', sound: 'Geluid bij kritieke meldingen',
      soundOn: 'Geluid aan', soundOff: 'Geluid uit', evidence: 'Onderbouwing', distance: 'Afstand', offender: 'Betrokkene', victim: 'Slachtoffer',
      victimHidden: 'De positie van het slachtoffer wordt niet getoond (alleen aan de meldkamers zolang de melding open is).',
      history: 'Verloop', raisedAt: 'Gemeld', state: 'Status', live: 'live', connecting: 'verbinden…', disconnected: 'verbinding verbroken, opnieuw…',
      offenders: 'Betrokkenen', bans: 'Verboden', compliance: 'Naleving', newBan: 'Nieuw verbod', editBan: 'Verbod wijzigen', endBan: 'Verbod beëindigen',
      type: 'Soort', legalBasis: 'Grondslag', authority: 'Opgelegd door', caseRef: 'Parketnummer / zaak', validFrom: 'Geldig vanaf',
      validUntil: 'Geldig tot', schedule: 'Tijden', scheduleHelp: 'bijv. ma,di,wo 22:00-06:00; één venster per regel; leeg = altijd',
      level: 'Toezichtsniveau', minDistance: 'Minimale afstand (m)', warnDistance: 'Waarschuwingsafstand (m)', buffer: 'Waarschuwingszone (m)',
      area: 'Gebied (GeoJSON)', drawHelp: 'Klik op de kaart om hoekpunten te zetten, dan “Getekend gebied gebruiken”; of plak GeoJSON.',
      useDrawn: 'Getekend gebied gebruiken', clearDrawn: 'Tekening wissen', check: 'Haalbaarheid controleren', save: 'Opslaan',
      noWarnings: 'Geen waarschuwingen.', warnings: 'Waarschuwingen', saved: 'Opgeslagen.', endReason: 'Reden van beëindiging',
      version: 'Versie', status: 'Status', note: 'Toelichting', alertsByType: 'Meldingen per soort', none: 'geen',
      selectOffender: 'Kies een betrokkene.', contact: 'Contactverbod', exclusion: 'Locatieverbod', inclusion: 'Locatiegebod',
      accuracy: 'nauwkeurigheid', position: 'positie', track: 'spoor', zone: 'gebied',
      devices: 'Apparaten', device: 'Apparaat', battery: 'Batterij', lastReport: 'Laatste melding', reporting: 'meldt zich',
      offline: 'offline', noFix: 'geen positie', strapOpen: 'band geopend', noContact: 'geen huidcontact', unknown: 'onbekend op deze server',
      feedLost: 'Sinds {lost} komt van geen enkel apparaat iets binnen: overtredingen, SOS-meldingen en stille apparaten kunnen niet worden gedetecteerd totdat de apparaten weer doorkomen.',
      feedBack: 'Apparaten komen weer door sinds {back} (niets ontvangen vanaf {lost}); wat ze intussen hebben opgeslagen wordt beoordeeld zodra het binnenkomt, gemarkeerd als laat.',
      feedUnconfirmed: ' Niet bevestigd sinds {at}: deze server bereikt de apparaatstatus van het cluster niet.',
    },
  };
  const names = {
    en: {
      ContactBanBreach: 'Contact ban breach', ExclusionZoneBreach: 'Exclusion zone breach', InclusionZoneBreach: 'Inclusion zone breach',
      ProximityWarning: 'Proximity warning', VictimSos: 'Victim SOS', StrapTamper: 'Strap tampered', BodyContactLost: 'Body contact lost',
      DeviceOffline: 'Device offline', NoPositionFix: 'No position fix', LowBattery: 'Low battery', BatteryCritical: 'Battery critical',
      SuspectedJamming: 'Suspected jamming', Critical: 'Critical', High: 'High', Warning: 'Warning', Info: 'Info',
      Open: 'Open', Acknowledged: 'Acknowledged', Dispatched: 'Unit dispatched', Resolved: 'Resolved', Active: 'Active', Ended: 'Ended',
      AnkleMonitor: 'Ankle monitor', VictimDevice: 'Victim device',
    },
    nl: {
      ContactBanBreach: 'Overtreding contactverbod', ExclusionZoneBreach: 'Overtreding locatieverbod', InclusionZoneBreach: 'Overtreding locatiegebod',
      ProximityWarning: 'Naderingswaarschuwing', VictimSos: 'SOS slachtoffer', StrapTamper: 'Enkelband gemanipuleerd', BodyContactLost: 'Geen huidcontact',
      DeviceOffline: 'Apparaat offline', NoPositionFix: 'Geen positie', LowBattery: 'Batterij laag', BatteryCritical: 'Batterij kritiek',
      SuspectedJamming: 'Vermoedelijke stoorzender', Critical: 'Kritiek', High: 'Hoog', Warning: 'Waarschuwing', Info: 'Info',
      Open: 'Open', Acknowledged: 'Bevestigd', Dispatched: 'Eenheid onderweg', Resolved: 'Afgehandeld', Active: 'Actief', Ended: 'Beëindigd',
      AnkleMonitor: 'Enkelband', VictimDevice: 'Slachtofferapparaat',
    },
  };

  let lang = localStorage.getItem(LANG_KEY) || ((navigator.language || 'en').toLowerCase().startsWith('nl') ? 'nl' : 'en');
  if (!dict[lang]) lang = 'en';
  const listeners = [];

  const t = (key) => dict[lang][key] ?? dict.en[key] ?? key;
  const name = (value) => names[lang][value] ?? value;
  const num = (v, digits = 0) => v == null ? '–' : Number(v).toLocaleString(lang === 'nl' ? 'nl-NL' : 'en-GB', { maximumFractionDigits: digits });
  const time = (iso) => iso ? new Date(iso).toLocaleString(lang === 'nl' ? 'nl-NL' : 'en-GB', { timeZone: 'Europe/Amsterdam' }) : '–';

  function applyTranslations(root = document) {
    document.documentElement.lang = lang;
    root.querySelectorAll('[data-i18n]').forEach(el => { el.textContent = t(el.dataset.i18n); });
    root.querySelectorAll('[data-i18n-placeholder]').forEach(el => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  }

  function setLang(value) {
    lang = dict[value] ? value : 'en';
    localStorage.setItem(LANG_KEY, lang);
    applyTranslations();
    listeners.forEach(f => f(lang));
  }

  // A token may arrive in the fragment (#token=...) so a script or test can open a page signed in.
  function token() {
    const m = /[#&]token=([^&]+)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + location.search);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  class ApiError extends Error {
    constructor(status, problem) { super(problem?.detail || problem?.title || `HTTP ${status}`); this.status = status; this.problem = problem; }
  }

  async function api(path, { method = 'GET', body, reason } = {}) {
    const headers = { 'Accept': 'application/json' };
    const tk = token();
    if (tk) headers['Authorization'] = 'Bearer ' + tk;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (reason) headers['X-Reason'] = reason;
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status === 401) { signOut(); throw new ApiError(401, { title: 'Unauthorized' }); }
    if (res.status === 204) return null;
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) throw new ApiError(res.status, data);
    return data;
  }

  // Server-sent events over fetch (EventSource cannot send the bearer token); reconnects with a fresh snapshot.
  function stream(path, onEvent, onStatus) {
    let stopped = false, controller;
    async function run() {
      while (!stopped) {
        controller = new AbortController();
        try {
          onStatus?.('connecting');
          const res = await fetch(path, { headers: { 'Authorization': 'Bearer ' + token(), 'Accept': 'text/event-stream' }, signal: controller.signal });
          if (res.status === 401) { signOut(); return; }
          if (!res.ok) throw new Error('HTTP ' + res.status);
          const reader = res.body.getReader(), decoder = new TextDecoder();
          let buffer = '', event = 'message';
          onStatus?.('live');
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            buffer += decoder.decode(value, { stream: true });
            let nl;
            while ((nl = buffer.indexOf('\n')) >= 0) {
              const line = buffer.slice(0, nl); buffer = buffer.slice(nl + 1);
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) { onEvent(event, JSON.parse(line.slice(6))); event = 'message'; }
            }
          }
        } catch (e) { if (stopped) return; }
        onStatus?.('disconnected');
        await new Promise(r => setTimeout(r, 2000));
      }
    }
    run();
    return () => { stopped = true; controller?.abort(); };
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  }

  // Shows the sign-in box until a token is present; then calls start(me).
  async function boot(start) {
    const header = document.querySelector('header');
    header.insertAdjacentHTML('beforeend', `
      <span class="spacer"></span>
      <span id="whoami" class="muted"></span>
      <label><span data-i18n="language"></span>
        <select id="lang"><option value="nl">Nederlands</option><option value="en">English</option></select></label>
      <button id="signout" data-i18n="signOut"></button>`);
    const select = document.getElementById('lang');
    select.value = lang;
    select.addEventListener('change', () => setLang(select.value));
    document.getElementById('signout').addEventListener('click', signOut);
    applyTranslations();
    if (!token()) {
      document.querySelector('main')?.classList.add('hidden');
      document.body.insertAdjacentHTML('beforeend', `
        <div id="login"><h2 data-i18n="signInTitle"></h2><p data-i18n="signInHelp"></p>
        <textarea id="token-input"></textarea><p><button class="primary" id="token-save" data-i18n="signIn"></button></p></div>`);
      applyTranslations();
      document.getElementById('token-save').addEventListener('click', () => {
        sessionStorage.setItem(TOKEN_KEY, document.getElementById('token-input').value.trim());
        location.reload();
      });
      return;
    }
    const me = await api('/api/me');
    document.getElementById('whoami').textContent = `${me.user} (${me.roles.join(', ')})`;
    const config = await api('/api/config');
    await start(me, config);
  }

  // --- map helpers ---
  function createMap(element, config) {
    const map = L.map(element, { preferCanvas: false }).setView([52.37, 4.89], 12);
    if (config?.tileUrl) L.tileLayer(config.tileUrl, { attribution: config.tileAttribution || '', maxZoom: 19 }).addTo(map);
    return map;
  }

  // GeoJSON with the project's Circle extension: {"type":"Circle","center":[lon,lat],"radiusMeters":r}.
  function zoneLayer(area, style) {
    const geometry = area.type === 'Feature' ? area.geometry : area;
    if (geometry.type === 'Circle') return L.circle([geometry.center[1], geometry.center[0]], { radius: geometry.radiusMeters, ...style });
    return L.geoJSON(geometry, { style: () => style });
  }

  function fit(map, layers) {
    const group = L.featureGroup(layers.filter(Boolean));
    if (group.getLayers().length) map.fitBounds(group.getBounds().pad(0.2), { maxZoom: 17 });
  }

  function escape(s) {
    return String(s ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  }

  return { t, name, num, time, api, stream, boot, setLang, onLang: f => listeners.push(f), get lang() { return lang; },
    applyTranslations, createMap, zoneLayer, fit, escape, ApiError };
})();
