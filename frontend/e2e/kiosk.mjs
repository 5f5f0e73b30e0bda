// Helpers shared by the end-to-end test files (not a test file itself:
// node --test runs *.test.mjs). Each file still has its own browser and
// its own candidate; these are the steps every journey takes the same way.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'

// Debian Chromium as this machine runs it: no sandbox as root, no GPU, no
// calls home.
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run']

/** waitForServer polls url until it answers 2xx, for at most ms. */
export async function waitForServer(url, ms) {
  const end = Date.now() + ms
  for (;;) {
    try {
      const r = await fetch(url)
      if (r.ok) return
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`${url} did not answer within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/**
 * openBrowser starts headless Debian Chromium with a profile of its own in
 * a kiosk-sized window; close() stops it and removes the profile.
 */
export async function openBrowser(name) {
  const profile = mkdtempSync(join(tmpdir(), `examkiosk-chromium-${name}-`))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: chromiumArgs,
  })
  context.setDefaultTimeout(30_000)
  context.setDefaultNavigationTimeout(30_000)
  const page = await context.newPage()
  return {
    context,
    page,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** staffSyncNow has the kiosk deliver and pull at once (staff console, demo PIN). */
export async function staffSyncNow(page) {
  await page.getByTestId('staff-open').click()
  await page.getByTestId('staff-pin').fill('123456')
  await page.getByTestId('staff-login').click()
  await page.getByTestId('staff-sync-now').click({ timeout: 10_000 })
  await page.getByText('已开始报送').waitFor({ timeout: 10_000 })
  await page.getByTestId('staff-close').click()
}

/**
 * passFaceStep waits for the live face check to end on the replay camera
 * (the demo camera follows the prompts) and fails the test if it failed or
 * if the ID photo made from the live frames was refused (the demo clip
 * meets every rule: a refusal names the rules it broke).
 */
export async function passFaceStep(page, artifacts, label) {
  const photo = page.getByTestId('photo')
  const failed = page.locator('[data-testid=face-hint][data-phase=failed]')
  await Promise.race([photo.waitFor({ timeout: 90_000 }), failed.waitFor({ timeout: 90_000 })])
  if (!(await photo.isVisible())) {
    await page.screenshot({ path: join(artifacts, `e2e-${label}-face-failed.png`) })
    assert.fail(`the face step failed: ${await failed.textContent()}`)
  }
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid=idphoto]')
    return img && img.complete && img.naturalWidth > 0
  }, null, { timeout: 10_000 })
  const accept = page.getByTestId('photo-accept')
  if (!(await page.getByTestId('photo-ok').isVisible())) {
    const problems = page.getByTestId('photo-problems').locator('li')
    const codes = await problems.evaluateAll((li) => li.map((l) => l.dataset.code))
    await page.screenshot({ path: join(artifacts, `e2e-${label}-photo-refused.png`) })
    assert.equal(await accept.isEnabled(), false, 'a refused photo cannot be used')
    assert.fail(`the ID photo made from the demo clip was refused: ${JSON.stringify(codes)}`)
  }
  assert.equal(await accept.isEnabled(), true)
}
