import { readFileSync } from 'node:fs';
import { SETTING_NAMES } from '../../shared/core/config';
import { renderSettingsDoc, SETTING_DESCRIPTIONS, SETTINGS_DOC_PATH, undescribedSettings } from '../../tools/bin/settingsDoc';

describe('docs/settings.md is generated from the settings module', () => {
  it('has a description for every setting in SETTING_NAMES, and none for a setting that does not exist', () => {
    expect(undescribedSettings()).toEqual([]);
    expect(Object.keys(SETTING_DESCRIPTIONS).sort()).toEqual([...SETTING_NAMES].sort());
  });

  it('names every setting once, in SETTING_NAMES order', () => {
    const doc = renderSettingsDoc();
    const named = [...doc.matchAll(/^\| `([A-Za-z_]+)` \|/gm)].map((m) => m[1]);
    expect(named).toEqual([...SETTING_NAMES]);
  });

  it('is not stale: docs/settings.md equals what `npm run docs:settings` renders', () => {
    const onDisk = readFileSync(SETTINGS_DOC_PATH, 'utf8');
    if (onDisk !== renderSettingsDoc()) {
      throw new Error('docs/settings.md is stale: run `npm run docs:settings` and commit the result');
    }
  });
});
