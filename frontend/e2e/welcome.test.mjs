// End-to-end: the welcome screen in headless Debian Chromium against the
// kiosk's real Go bindings. Run by build/e2e.sh (make e2e), which starts the
// dev-tag kiosk and sets E2E_URL, E2E_CENTRE, E2E_CLIP and E2E_VERSION.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

const { E2E_URL, E2E_CENTRE, E2E_CLIP, E2E_VERSION, E2E_ARTIFACTS } = process.env
let context
let page
let profile

async function waitForServer(url, ms) {
  const end = Date.now() + ms
  for (;;) {
    try {
      const r = await fetch(url)
      if (r.ok) return
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`the kiosk did not serve ${url} within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

before(async () => {
  assert.ok(E2E_URL && E2E_CENTRE && E2E_VERSION, 'run through build/e2e.sh (make e2e)')
  await waitForServer(E2E_URL, 90_000)
  profile = mkdtempSync(join(tmpdir(), 'examkiosk-chromium-'))
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  })
  page = await context.newPage()
})

after(async () => {
  await context?.close()
  if (profile) rmSync(profile, { recursive: true, force: true })
})

test('welcome screen shows the centre from the kiosk config', async () => {
  await page.goto(E2E_URL)
  await page.getByTestId('centre-name').filter({ hasText: E2E_CENTRE }).waitFor({ timeout: 30_000 })
  assert.equal(await page.getByRole('heading', { level: 2 }).textContent(), '考试报名自助终端')
  assert.match(await page.getByTestId('no-exams').textContent(), /暂无正在报名的考试/)
})

test('the status strip reads the device status from Go', async () => {
  const version = page.getByTestId('status-version')
  await version.filter({ hasText: E2E_VERSION }).waitFor({ timeout: 15_000 })
  assert.equal(await page.getByTestId('status-models').getAttribute('data-state'), 'ok')
  assert.equal(await page.getByTestId('status-storage').getAttribute('data-state'), 'ok')
  const camera = page.getByTestId('status-camera')
  assert.equal(await camera.getAttribute('data-state'), 'ok')
  assert.match(await camera.textContent(), new RegExp(E2E_CLIP.replace('.', '\\.')))
  // Nothing listens at the configured central: offline is a warning, not an error.
  assert.equal(await page.getByTestId('status-central').getAttribute('data-state'), 'warn')
  // The bound method itself, as the page's JavaScript sees it.
  const report = await page.evaluate(() => window.go.app.App.Status())
  assert.deepEqual(report.items.map((i) => i.key), ['camera', 'models', 'storage', 'central', 'version'])
  assert.equal(report.version, E2E_VERSION)
})

test('the language switch turns the screen into English', async () => {
  await page.getByTestId('lang-switch').click()
  assert.equal(await page.getByRole('heading', { level: 2 }).textContent(), 'Exam Registration Kiosk')
  assert.match(await page.getByTestId('status-camera').textContent(), /^Camera: replay/)
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-welcome-en.png') })
  await page.getByTestId('lang-switch').click()
  assert.equal(await page.getByRole('heading', { level: 2 }).textContent(), '考试报名自助终端')
})
