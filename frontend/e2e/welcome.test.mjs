// End-to-end: the welcome screen in headless Debian Chromium against the
// kiosk's real Go bindings. Run by build/e2e.sh (make e2e), which starts the
// dev-tag kiosk and sets E2E_URL, E2E_CENTRE, E2E_CLIP and E2E_VERSION.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { chromiumArgs, openBrowser, passFaceStep, staffSyncNow as syncNow, waitForServer } from './kiosk.mjs'

const { E2E_URL, E2E_CENTRE, E2E_CLIP, E2E_VERSION, E2E_ARTIFACTS, E2E_CENTRAL, E2E_CENTRAL_PIDFILE, E2E_CENTRAL_CMD } = process.env
// A second kiosk with kiosk.idle_seconds = E2E_IDLE_SECONDS, for the idle
// timeout: a session is started on it early and left alone while the other
// tests run (idleSession), and the last test checks it ended.
const { E2E_IDLE_URL, E2E_IDLE_SECONDS } = process.env
let idleSession
let idleBrowser
// The candidate of the journey tests: the demo identity provider signs
// whatever name and ID number the phone page is given. Other test files
// that share the kiosk and its central use other candidates (a candidate
// registers once per exam).
const CANDIDATE = { name: '李四', id: '110108199003071238' }
// The registration the journey test submitted (its id on the receipt).
let journeyReg = ''
let browser
let context
let page

// The other devices (the candidate's phone, a reviewer's desk) run in a
// browser process of their own, each visit in a fresh context: no cookies
// or pages shared with the kiosk's browser or with each other.
let devices

// otherBrowser runs f with a page of another device.
async function otherBrowser(f) {
  devices ??= await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs })
  const c = await devices.newContext()
  try {
    const p = await c.newPage()
    p.setDefaultTimeout(30_000)
    return await f(p)
  } finally {
    await c.close()
  }
}

// qrLogin logs the candidate in from the welcome screen with an Alipay QR
// code confirmed on the phone, and skips the optional password step when
// it is offered.
async function qrLogin() {
  await page.getByTestId('start').click()
  await page.getByTestId('login-alipay').click()
  const qr = page.getByTestId('qr')
  await qr.waitFor({ timeout: 15_000 })
  const url = await qr.getAttribute('data-url')
  await otherBrowser(async (phone) => {
    await phone.goto(url)
    await page.locator('[data-testid=qr][data-state=scanned]').waitFor({ timeout: 30_000 })
    await phone.fill('input[name=name]', CANDIDATE.name)
    await phone.fill('input[name=id_number]', CANDIDATE.id)
    await Promise.all([phone.waitForNavigation({ waitUntil: 'load' }), phone.click('button[type=submit]')])
    assert.match(await phone.textContent('body'), /已确认|Confirmed/)
  })
  const password = page.getByTestId('password')
  const status = page.getByTestId('status')
  await Promise.race([password.waitFor({ timeout: 30_000 }), status.waitFor({ timeout: 30_000 })])
  if (await password.isVisible()) await page.getByTestId('password-skip').click()
}

// staffSyncNow has the staff console start a sync round at once (push and
// pull), as a member of staff would, instead of waiting for the next pull.
async function staffSyncNow() {
  await syncNow(page)
  await page.getByTestId('welcome').waitFor({ timeout: 10_000 })
}

// centralReg reads a registration from the demo central's reviewer API (the
// demo central lets loopback reviewers in without a login).
async function centralReg(id) {
  const r = await fetch(`${E2E_CENTRAL}/admin/registrations/${encodeURIComponent(id)}`)
  return r.ok ? r.json() : null
}

// stopCentral stops the central process build/e2e.sh started (or the one
// startCentral started since), as a power cut or a network fault would
// take it away from the kiosk; startCentral starts it again on the same
// data and address, and writes its pid where build/e2e.sh stops it.
async function stopCentral() {
  process.kill(Number(readFileSync(E2E_CENTRAL_PIDFILE, 'utf8')), 'SIGKILL')
  await until('the central is down', async () => {
    try {
      await fetch(`${E2E_CENTRAL}/healthz`)
      return false
    } catch {
      return true
    }
  }, 10_000)
}

async function startCentral() {
  const [cmd, ...args] = E2E_CENTRAL_CMD.trim().split('\n')
  const out = openSync(join(E2E_ARTIFACTS, 'central.log'), 'a')
  // Detached and unreferenced: this test file ends without waiting for it;
  // build/e2e.sh stops it by the pid file.
  const c = spawn(cmd, args, { stdio: ['ignore', out, out], detached: true })
  c.unref()
  closeSync(out)
  writeFileSync(E2E_CENTRAL_PIDFILE, String(c.pid))
  await until('the central is up again', async () => {
    try {
      return (await fetch(`${E2E_CENTRAL}/healthz`)).ok
    } catch {
      return false
    }
  }, 15_000)
}

async function until(what, f, ms) {
  const end = Date.now() + ms
  for (;;) {
    const v = await f()
    if (v) return v
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

// startIdleSession opens the idle kiosk's welcome screen, starts a login
// and leaves it; the page records when the welcome screen comes back.
async function startIdleSession() {
  await waitForServer(E2E_IDLE_URL, 120_000)
  // A browser of its own: a second page in the kiosk's browser would take
  // the front and stall the first one's animation frames.
  idleBrowser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs })
  const p = await idleBrowser.newPage()
  p.setDefaultTimeout(30_000)
  await p.goto(E2E_IDLE_URL)
  await p.getByTestId('start').waitFor({ timeout: 60_000 })
  await p.evaluate(() => (window.__idleFrom = Date.now())) // the click below is the last touch
  await p.getByTestId('start').click()
  await p.getByTestId('login').waitFor({ timeout: 10_000 })
  await p.evaluate(() => {
    new MutationObserver(() => {
      if (!window.__welcomeAt && document.querySelector('[data-testid=welcome]')) window.__welcomeAt = Date.now()
    }).observe(document.body, { subtree: true, childList: true })
  })
  return p
}

before(async () => {
  assert.ok(E2E_URL && E2E_CENTRE && E2E_VERSION && E2E_CENTRAL, 'run through build/e2e.sh (make e2e)')
  await waitForServer(E2E_URL, 90_000)
  browser = await openBrowser('kiosk')
  ;({ context, page } = browser)
})

after(async () => {
  await idleBrowser?.close()
  await devices?.close()
  await browser?.close()
})

test('welcome screen shows the centre and the open exam from the central', async () => {
  await page.goto(E2E_URL)
  await page.getByTestId('centre-name').filter({ hasText: E2E_CENTRE }).waitFor({ timeout: 30_000 })
  assert.equal(await page.getByRole('heading', { level: 2 }).textContent(), '考试报名自助终端')
  // The demo central's catalog reaches the kiosk through a real signed pull.
  await page.getByTestId('exam-list').waitFor({ timeout: 60_000 })
  assert.match(await page.getByTestId('exam-list').textContent(), /3 个岗位/)
  // The idle kiosk's session starts now and runs alongside the tests below.
  idleSession = startIdleSession().catch((e) => e)
})

test('the status strip reads the device status from Go', async () => {
  const version = page.getByTestId('status-version')
  await version.filter({ hasText: E2E_VERSION }).waitFor({ timeout: 15_000 })
  assert.equal(await page.getByTestId('status-models').getAttribute('data-state'), 'ok')
  assert.equal(await page.getByTestId('status-storage').getAttribute('data-state'), 'ok')
  const camera = page.getByTestId('status-camera')
  assert.equal(await camera.getAttribute('data-state'), 'ok')
  assert.match(await camera.textContent(), new RegExp(E2E_CLIP.replace('.', '\\.')))
  await page.locator('[data-testid=status-central][data-state=ok]').waitFor({ timeout: 15_000 })
  // The bound method of the device service, as the page's JavaScript sees it.
  const report = await page.evaluate(() => window.go.app.DeviceService.Status())
  assert.deepEqual(report.items.map((i) => i.key), ['camera', 'models', 'storage', 'central', 'version'])
  assert.equal(report.version, E2E_VERSION)
})

test('the language switch turns the screen into English', async () => {
  await page.getByTestId('lang-switch').click()
  assert.equal(await page.getByRole('heading', { level: 2 }).textContent(), 'Exam Registration Kiosk')
  assert.match(await page.getByTestId('status-camera').textContent(), /^Camera: ok/)
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-welcome-en.png') })
  await page.getByTestId('lang-switch').click()
  assert.equal(await page.getByRole('heading', { level: 2 }).textContent(), '考试报名自助终端')
})

test('a QR login confirmed on the phone leads, past the optional password step, through the live face check, the ID photo, the form and the review to the receipt', async () => {
  await page.getByTestId('start').click()
  await page.getByTestId('login-alipay').click()
  const qr = page.getByTestId('qr')
  await qr.waitFor({ timeout: 15_000 })
  const url = await qr.getAttribute('data-url')
  assert.match(url, /\/qr\/[A-Za-z0-9_-]{16,}$/)
  assert.equal(await qr.getAttribute('data-state'), 'waiting')
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-login-qr.png') })

  // The phone's part, in a browser of its own (another device, another
  // process): the central's confirm page names the test centre before the
  // user confirms (against QR-login hijacking).
  await otherBrowser(async (phone) => {
    await phone.goto(url)
    assert.match(await phone.textContent('body'), new RegExp(E2E_CENTRE.replace(/[()（）]/g, '.')))
    await page.locator('[data-testid=qr][data-state=scanned]').waitFor({ timeout: 30_000 })
    await phone.fill('input[name=name]', CANDIDATE.name)
    await phone.fill('input[name=id_number]', CANDIDATE.id)
    await Promise.all([phone.waitForNavigation({ waitUntil: 'load' }), phone.click('button[type=submit]')])
    assert.match(await phone.textContent('body'), /已确认|Confirmed/)
  })

  // The kiosk's long poll sees the confirmation and offers to set an
  // account password (optional): skipping it moves on to the face step.
  await page.getByTestId('password').waitFor({ timeout: 30_000 })
  await page.getByTestId('password-skip').click()
  await page.getByTestId('face').waitFor({ timeout: 30_000 })
  // Every state the face screen shows, as the candidate sees it, is
  // recorded in the page: the hint's phase and words, the challenge's
  // liveness state and its steps marked done.
  await page.evaluate(() => {
    window.__face = []
    const section = document.querySelector('[data-testid=face]')
    const snap = () => {
      const hint = section.querySelector('[data-testid=face-hint]')
      const ol = section.querySelector('[data-testid=challenge]')
      const s = {
        phase: hint?.dataset.phase ?? '',
        hint: hint?.textContent ?? '',
        state: ol?.dataset.state ?? '',
        done: ol ? ol.querySelectorAll('li.done').length : 0,
        steps: ol ? ol.querySelectorAll('li').length : 0,
        attempt: section.querySelector('.attempts')?.textContent ?? '',
      }
      const last = window.__face[window.__face.length - 1]
      if (!last || JSON.stringify(last) !== JSON.stringify(s)) window.__face.push(s)
    }
    snap()
    new MutationObserver(snap).observe(section, { subtree: true, childList: true, characterData: true, attributes: true })
  })
  // The live picture comes from Go (the replay camera's MJPEG stream) …
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid=preview]')
    return img && img.complete && img.naturalWidth === 640
  }, null, { timeout: 30_000 })
  // … and the face analysis of each frame arrives on the event stream.
  await page.locator('[data-testid=face-hint][data-phase=live]').waitFor({ timeout: 30_000 })
  const steps = await page.getByTestId('challenge').locator('li').count()
  assert.ok(steps >= 2, `a liveness challenge of at least two actions, got ${steps}`)
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-face.png') })

  // The demo camera replays the clip following the prompts (app/demofollow.go),
  // and the liveness check (hold, prompt, act, return per step) with the
  // passive PAD runs for real: it must pass, then the ID photo is made and
  // compared, and the journey moves on to the photo step.
  const photo = page.getByTestId('photo')
  const failed = page.locator('[data-testid=face-hint][data-phase=failed]')
  await Promise.race([photo.waitFor({ timeout: 90_000 }), failed.waitFor({ timeout: 90_000 })])
  const seen = await page.evaluate(() => window.__face)
  if (!(await photo.isVisible())) {
    await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-face-failed.png') })
    assert.fail(`the face step failed: ${await failed.textContent()}; seen ${JSON.stringify(seen)}`)
  }
  const all = JSON.stringify(seen)
  const running = seen.filter((s) => s.phase === 'live' && s.state === 'running')
  assert.ok(running.some((s) => s.hint === '请正视镜头，保持不动'), `the hold hint was shown: ${all}`)
  const prompts = ['请眨眨眼', '请向左转头', '请向右转头', '请张张嘴']
  assert.ok(running.some((s) => prompts.includes(s.hint)), `an action prompt was shown: ${all}`)
  // Steps are marked done one by one; once the liveness has passed every
  // step is done while the ID photo is made and compared.
  assert.ok(running.some((s) => s.done >= 1 && s.done < s.steps), `a step marked done while the next runs: ${all}`)
  const checking = seen.find((s) => s.phase === 'checking')
  assert.ok(checking, `the screen showed the photo being made: ${all}`)
  assert.equal(checking.state, 'passed')
  assert.equal(checking.done, checking.steps)
  assert.equal(checking.hint, '正在生成证件照并比对，请稍候……')
  const attempts = [...new Set(seen.map((s) => s.attempt).filter(Boolean))]
  console.log(`face: ${seen.length} screen states, ${steps} steps, attempts shown: ${JSON.stringify(attempts)}`)

  // The photo step shows the ID photo made from the live frames and its
  // verdict. The demo clip's person was filmed at eye level, so the photo
  // made from it meets every rule and matches the live face; a refusal
  // names the rules it breaks, and fails this test.
  await page.waitForFunction(() => {
    const img = document.querySelector('[data-testid=idphoto]')
    return img && img.complete && img.naturalWidth > 0
  }, null, { timeout: 10_000 })
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-photo.png') })
  const accept = page.getByTestId('photo-accept')
  if (!(await page.getByTestId('photo-ok').isVisible())) {
    const problems = page.getByTestId('photo-problems').locator('li')
    const codes = await problems.evaluateAll((li) => li.map((l) => l.dataset.code))
    const words = await problems.allTextContents()
    assert.equal(await accept.isEnabled(), false, 'a refused photo cannot be used')
    assert.fail(`the ID photo made from the demo clip was refused: ${JSON.stringify(codes)} ${JSON.stringify(words)}`)
  }
  assert.equal(await accept.isEnabled(), true)
  await accept.click()

  // The application form: the demo exam is chosen already (the only open
  // one); the rest is picked and typed as a candidate would.
  const form = page.getByTestId('form')
  await form.waitFor({ timeout: 10_000 })
  assert.match(await form.textContent(), new RegExp(CANDIDATE.name))
  await page.locator('[data-testid=f-exam] option:not([disabled])').first().waitFor({ state: 'attached' })
  assert.notEqual(await page.getByTestId('f-exam').inputValue(), '')
  // The Next button with nothing filled in names every missing field.
  await page.getByTestId('f-next').click()
  await form.locator('.field-error').first().waitFor({ timeout: 10_000 })
  assert.ok((await form.locator('.field-error').count()) >= 3, 'each missing field is named')
  await page.getByTestId('f-position').selectOption({ index: 1 })
  const position = await page.getByTestId('f-position').evaluate((s) => s.selectedOptions[0].textContent)
  await page.getByTestId('f-phone').fill('13800138000')
  await page.getByTestId('f-education').selectOption({ index: 1 })
  await page.getByTestId('f-major').fill('计算机科学与技术')
  await page.getByTestId('f-year').selectOption({ index: 1 })
  await page.getByTestId('f-work').fill('无')
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-form.png') })
  await page.getByTestId('f-next').click()

  // The review page shows what will be submitted, the ID photo with it.
  await page.getByTestId('review').waitFor({ timeout: 10_000 })
  assert.equal(await page.getByTestId('r-name').textContent(), CANDIDATE.name)
  assert.ok(position.startsWith(await page.getByTestId('r-position').textContent()), `review shows the position chosen (${position})`)
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-review.png') })
  await page.getByTestId('r-submit').click()

  // The receipt: stored on the kiosk, with its status QR; the submission
  // is delivered to the central, which puts it under review.
  await page.getByTestId('receipt').waitFor({ timeout: 15_000 })
  await page.locator('[data-testid=receipt-qr]').waitFor()
  const reg = page.getByTestId('registration')
  assert.equal(await reg.getAttribute('data-status'), 'submitted')
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-receipt.png') })
  const j = await page.evaluate(() => window.go.app.JourneyService.Journey())
  journeyReg = j.receipt.id
  assert.ok(journeyReg, 'the receipt names the registration')
  const central = await until('the central has the submission under review', async () => {
    const r = await centralReg(journeyReg)
    return r && r.status === 'under_review' ? r : null
  }, 30_000)
  assert.equal(central.id_number, CANDIDATE.id)
  assert.equal(central.name, CANDIDATE.name)
  await page.getByTestId('receipt-done').click()
  await page.getByTestId('welcome').waitFor({ timeout: 10_000 })
})

// decide has a reviewer decide on the registration on the demo central's
// review page: approve, or reject with a reason.
async function decide(id, reason) {
  await otherBrowser(async (desk) => {
    await desk.goto(`${E2E_CENTRAL}/review`)
    // Its row names it "<id> r<revision>"; another row may name it too, as
    // the registration a duplicate-suspected one matched.
    const row = desk.locator('tr', { hasText: new RegExp(`${id} r\\d`) })
    if (reason) {
      await row.locator('input[name=reason]').fill(reason)
      await Promise.all([desk.waitForNavigation({ waitUntil: 'load' }), row.getByRole('button', { name: /Reject/ }).click()])
    } else {
      await Promise.all([desk.waitForNavigation({ waitUntil: 'load' }), row.getByRole('button', { name: /Approve/ }).click()])
    }
  })
}

test('the central rejects; the candidate chooses another position and submits while the central is down; delivered when it returns; approved; paid through the simulated Alipay, and the kiosk shows it paid', async () => {
  assert.ok(journeyReg, 'needs the registration submitted by the journey test')
  const first = await centralReg(journeyReg)
  // A reviewer rejects it on the demo central's review page, with a reason.
  const reason = '报考岗位专业不符'
  await decide(journeyReg, reason)
  await until('the central rejected it', async () => (await centralReg(journeyReg))?.status === 'rejected', 10_000)

  // The kiosk learns it on its next pull (staff start one at once); the
  // candidate logs in again, sees the reason and the two ways on, and
  // chooses another position: face check and ID photo again, the form with
  // the position cleared, review, submit.
  await staffSyncNow()
  await qrLogin()
  await page.getByTestId('status').waitFor({ timeout: 10_000 })
  const card = page.locator(`[data-testid=registration]`).filter({ hasText: journeyReg })
  await card.and(page.locator('[data-status=rejected]')).waitFor({ timeout: 30_000 })
  assert.match(await card.textContent(), new RegExp(reason))
  await card.getByTestId('resubmit').waitFor()
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-rejected.png') })
  await card.getByTestId('change-position').click()
  await page.getByTestId('face').waitFor({ timeout: 10_000 })
  await passFaceStep(page, E2E_ARTIFACTS, 'another-position')
  await page.getByTestId('photo-accept').click()
  await page.getByTestId('form').waitFor({ timeout: 10_000 })
  assert.equal(await page.getByTestId('f-position').inputValue(), '', 'another position: the old one is cleared')
  assert.equal(await page.getByTestId('f-major').inputValue(), '计算机科学与技术', 'the rest of the form is kept')
  await page.getByTestId('f-position').selectOption({ index: 2 })
  const newPosition = await page.getByTestId('f-position').inputValue()
  assert.notEqual(newPosition, first.position_id)
  await page.getByTestId('f-next').click()
  await page.getByTestId('review').waitFor({ timeout: 10_000 })

  // The central goes down before the candidate submits: the kiosk stores
  // the submission and says it is not delivered yet; the status strip
  // shows the central unreachable.
  await stopCentral()
  await page.getByTestId('r-submit').click()
  await page.getByTestId('receipt').waitFor({ timeout: 15_000 })
  const receipt = page.getByTestId('registration')
  assert.equal(await receipt.getAttribute('data-status'), 'resubmitted')
  assert.match(await receipt.textContent(), /尚未报送/)
  await page.locator('[data-testid=status-central]:not([data-state=ok])').waitFor({ timeout: 30_000 })
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-offline-receipt.png') })
  await page.getByTestId('receipt-done').click()
  await page.getByTestId('welcome').waitFor({ timeout: 10_000 })

  // It comes back: the next round (staff start one at once) delivers the
  // stored submission, exactly once, with the new position.
  await startCentral()
  await staffSyncNow()
  const resubmitted = await until('the central has the new position under review', async () => {
    const r = await centralReg(journeyReg)
    return r && r.status === 'under_review' && r.revision > first.revision ? r : null
  }, 30_000)
  assert.equal(resubmitted.position_id, newPosition)
  assert.equal(resubmitted.revision, first.revision + 1)
  await page.locator('[data-testid=status-central][data-state=ok]').waitFor({ timeout: 30_000 })

  // The reviewer approves the new position.
  await decide(journeyReg)
  await until('the central approved it', async () => (await centralReg(journeyReg))?.status === 'approved', 10_000)

  // The candidate sees it approved, with the payment QR.
  await staffSyncNow()
  await qrLogin()
  await page.getByTestId('status').waitFor({ timeout: 10_000 })
  await card.and(page.locator('[data-status=approved]')).waitFor({ timeout: 30_000 })
  await card.getByTestId('pay').waitFor()
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-approved.png') })
  const j = await page.evaluate(() => window.go.app.JourneyService.Journey())
  const payURL = j.registrations.find((r) => r.id === journeyReg)?.paymentUrl
  assert.match(payURL ?? '', /\/pay\/[^/]+$/, 'the approved registration carries the payment link its QR shows')

  // The phone scans the payment QR: the simulated Alipay signs a payment
  // notification, which the central verifies like a real one.
  await otherBrowser(async (phone) => {
    await phone.goto(payURL)
    assert.match(await phone.textContent('body'), /unpaid/)
    await Promise.all([phone.waitForNavigation({ waitUntil: 'load' }), phone.getByRole('button', { name: /Pay/ }).click()])
    assert.match(await phone.textContent('body'), /Status: paid/)
  })
  await until('the central has it paid', async () => (await centralReg(journeyReg))?.status === 'paid', 10_000)

  await page.getByTestId('logout').click()
  await page.getByTestId('welcome').waitFor({ timeout: 10_000 })
  await staffSyncNow()
  await qrLogin()
  await page.getByTestId('status').waitFor({ timeout: 10_000 })
  await card.and(page.locator('[data-status=paid]')).waitFor({ timeout: 30_000 })
  assert.equal(await card.getByTestId('reg-status').textContent(), '已缴费，报名完成')
  assert.equal(await card.getByTestId('pay').count(), 0, 'a paid registration shows no payment QR')
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-paid.png') })
  await page.getByTestId('logout').click()
  await page.getByTestId('welcome').waitFor({ timeout: 10_000 })
})

test('the staff console opens with the PIN and shows delivery and the camera', async () => {
  await page.getByTestId('staff-open').click()
  await page.getByTestId('staff-pin').fill('000000')
  await page.getByTestId('staff-login').click()
  // A refusal arrives as a code with its arguments; the UI words it.
  await page.getByText('密码错误，还可再试 4 次').waitFor({ timeout: 10_000 })
  await page.getByTestId('staff-pin').fill('123456')
  await page.getByTestId('staff-login').click()
  const sync = page.getByTestId('staff-sync')
  await sync.waitFor({ timeout: 10_000 })
  assert.match(await sync.textContent(), /待报送/)
  await page.getByTestId('staff-sync-now').click()
  await page.getByText('已开始报送').waitFor({ timeout: 10_000 })
  await page.waitForFunction(() => {
    const img = document.querySelector('.staff .camtest')
    return img && img.complete && img.naturalWidth > 0
  }, null, { timeout: 20_000 })
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-staff.png') })
  await page.getByTestId('staff-close').click()
  await page.getByTestId('welcome').waitFor({ timeout: 10_000 })
})

test('a touch-only login: the pinyin keyboard types a Chinese name, the keypad an ID number', async () => {
  await page.getByTestId('start').click()
  await page.getByTestId('offline-toggle').click()
  await page.getByTestId('offline-name').click()
  const kb = page.getByTestId('name-keyboard')
  await kb.waitFor({ timeout: 10_000 })
  for (const [py, ch] of [['zhang', '张'], ['san', '三']]) {
    for (const c of py) await kb.locator(`[data-letter="${c}"]`).click()
    await kb.locator(`[data-cand="${ch}"]`).click({ timeout: 15_000 })
  }
  assert.equal(await page.getByTestId('offline-name').inputValue(), '张三')
  await page.getByTestId('offline-id').click()
  const pad = page.getByTestId('keypad')
  await pad.waitFor({ timeout: 10_000 })
  for (const k of '11010519491231002X') await pad.locator(`[data-key="${k}"]`).click()
  assert.equal(await page.getByTestId('offline-id').inputValue(), '11010519491231002X')
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-keyboard.png') })
  await pad.locator('[data-key=done]').click()
  await page.getByTestId('logout').click()
  await page.getByTestId('welcome').waitFor({ timeout: 10_000 })
})

test('a session left alone goes back to the welcome screen after kiosk.idle_seconds, the candidate forgotten', async () => {
  const p = await idleSession
  if (p instanceof Error) throw p
  const limit = Number(E2E_IDLE_SECONDS)
  await p.getByTestId('welcome').waitFor({ timeout: (limit + 30) * 1000 })
  const { from, at } = await p.evaluate(() => ({ from: window.__idleFrom, at: window.__welcomeAt }))
  const s = (at - from) / 1000
  // Not before the limit; within one check of the watchdog (every 5 s)
  // after it, with room for a loaded machine.
  assert.ok(s >= limit, `back to the welcome screen after ${s} s, before the ${limit} s limit`)
  assert.ok(s <= limit + 15, `back to the welcome screen only after ${s} s (limit ${limit} s)`)
  const j = await p.evaluate(() => window.go.app.JourneyService.Journey())
  assert.equal(j.step, 'welcome')
  assert.ok(!j.candidate, 'the candidate is forgotten')
  console.log(`idle: back to the welcome screen ${s.toFixed(1)} s after the last touch (limit ${limit} s)`)
})
