import type { App } from '../../api/types.js'
import type { AppData } from '../AppPage.js'
import { DeleteApp } from './DeleteApp.js'
import { RenameForm } from './RenameForm.js'
import { SettingsForm } from './SettingsForm.js'

/** Rename, edit every setting (validated, defaults shown), delete with typed confirmation. */
export function SettingsPanel({ data, onSaved }: { data: AppData; onSaved(app: App): void }) {
  return (
    <div className="stack">
      <RenameForm app={data.app} onSaved={onSaved} />
      <SettingsForm app={data.app} onSaved={onSaved} />
      <DeleteApp app={data.app} />
    </div>
  )
}
