// Runs once per DevTools window: adds the "MirrorState" panel.
chrome.devtools.panels.create('MirrorState', '', 'panel.html');
