// End-to-end: the admission ticket. A candidate applies at the kiosk (typed
// login, the live face check on the replay camera, the ID photo, the form),
// the demo central approves and takes the (simulated) payment, assigns the
// seat, the kiosk pulls the ticket, and the candidate prints it: through
// CUPS to the demo's cups-pdf printer, whose PDF is read back with
// pdftotext. Run by build/e2e.sh (make e2e) like every file of e2e/; it
// needs nothing from the other files: its own browser, its own candidate.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { openBrowser, passFaceStep, staffSyncNow, waitForServer } from './kiosk.mjs'

const { E2E_URL, E2E_ARTIFACTS } = process.env
// The central the demo kiosk uses: build/e2e.sh's (E2E_CENTRAL), or the
// demo's own in-process one.
const CENTRAL = process.env.E2E_CENTRAL ?? 'http://127.0.0.1:8700'
// A candidate of this file only (one registration per candidate and exam).
const NAME = [['li', '李'], ['si', '四']]
const ID = '110105198001010032'
let browser
let context
let page

/** central calls the demo central's staff JSON API (demo: no login for loopback programs). */
async function central(method, path, body) {
  const r = await fetch(CENTRAL + path, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await r.text()
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`)
  return JSON.parse(text)
}

/** printerOut is where the demo's cups-pdf printer writes (the kiosk logs it at start). */
function printerOut() {
  const log = readFileSync(join(E2E_ARTIFACTS, 'kiosk.log'), 'utf8')
  const m = log.match(/demo: printer .* out=("?)([^"\s]+)\1/)
  assert.ok(m, 'the demo kiosk started no printer (its log names none): CUPS and cups-pdf are installed by build/setup.sh deps')
  return m[2]
}

function pdfsIn(dir) {
  const out = []
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name))
      else if (e.name.endsWith('.pdf')) out.push(join(d, e.name))
    }
  }
  walk(dir)
  return out.sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs)
}

before(async () => {
  assert.ok(E2E_URL && E2E_ARTIFACTS, 'run through build/e2e.sh (make e2e)')
  await waitForServer(E2E_URL, 90_000)
  await waitForServer(CENTRAL + '/healthz', 90_000)
  browser = await openBrowser('ticket')
  ;({ context, page } = browser)
})

after(async () => {
  await browser?.close()
})

test('a paid candidate prints the admission ticket with the seat the central assigned', async () => {
  const out = printerOut()
  const printedBefore = pdfsIn(out).length
  await page.goto(E2E_URL)
  await page.getByTestId('welcome').waitFor({ timeout: 30_000 })
  await page.getByTestId('exam-list').waitFor({ timeout: 60_000 })

  // Apply: typed login on the on-screen keyboards, the live face check on
  // the replay camera, the ID photo, the form, the review, submit.
  await page.getByTestId('start').click()
  await page.getByTestId('offline-toggle').click()
  await page.getByTestId('offline-name').click()
  const kb = page.getByTestId('name-keyboard')
  for (const [py, ch] of NAME) {
    for (const c of py) await kb.locator(`[data-letter="${c}"]`).click()
    await kb.locator(`[data-cand="${ch}"]`).click({ timeout: 15_000 })
  }
  await page.getByTestId('offline-id').click()
  const pad = page.getByTestId('keypad')
  for (const k of ID) await pad.locator(`[data-key="${k}"]`).click()
  await pad.locator('[data-key=done]').click()
  await page.getByTestId('offline-submit').click()
  await page.getByTestId('face').waitFor({ timeout: 30_000 })
  await passFaceStep(page, E2E_ARTIFACTS, 'ticket')
  await page.getByTestId('photo-accept').click()
  await page.getByTestId('form').waitFor()
  await page.getByTestId('f-exam').selectOption({ index: 1 })
  await page.getByTestId('f-position').selectOption('P002')
  await page.getByTestId('f-phone').fill('13800138000')
  await page.getByTestId('f-education').selectOption('bachelor')
  await page.getByTestId('f-major').fill('会计学')
  await page.getByTestId('f-year').selectOption({ index: 1 })
  await page.getByTestId('f-next').click()
  await page.getByTestId('review').waitFor()
  await page.getByTestId('r-submit').click()
  await page.getByTestId('receipt').waitFor({ timeout: 30_000 })
  const id = (await page.getByTestId('receipt').textContent()).match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/)?.[0]
  assert.ok(id, 'the receipt shows the registration number')
  await page.getByTestId('receipt-status').click()
  await page.getByTestId('status').waitFor()

  // The central receives it, a reviewer approves, the candidate pays on
  // the (simulated) Alipay page; the open ticket window seats them.
  for (let i = 0; ; i++) {
    const r = await fetch(`${CENTRAL}/admin/registrations/${id}`)
    if (r.ok) break
    assert.ok(i < 30, 'the registration reached the central')
    if (i === 0) await staffSyncNow(page)
    await new Promise((r) => setTimeout(r, 1000))
  }
  const reg = await central('POST', `/admin/registrations/${id}/review`, { decision: 'approve' })
  assert.ok(reg.order_id, `approved with an order: ${JSON.stringify(reg)}`)
  const pay = await context.newPage()
  await pay.goto(`${CENTRAL}/pay/${reg.order_id}`)
  await Promise.all([pay.waitForNavigation({ waitUntil: 'load' }), pay.click('button')])
  assert.match(await pay.textContent('body'), /paid/)
  await pay.close()

  // The ticket reaches the kiosk with the next pull: the status screen
  // shows the seat and the print button.
  await staffSyncNow(page)
  const ticket = page.getByTestId('ticket')
  await ticket.waitFor({ timeout: 40_000 })
  const seat = await page.getByTestId('ticket-seat').textContent()
  assert.match(seat, /考场：第 10[12] 考场　座位号：\d+/)
  const number = (await ticket.textContent()).match(/准考证号 (\d+)/)?.[1]
  assert.ok(number, 'the ticket number is shown')
  await page.screenshot({ path: join(E2E_ARTIFACTS, 'e2e-ticket.png') })

  // Print: Go makes the PDF and sends it to CUPS; cups-pdf writes it.
  await page.getByTestId('print-ticket').click()
  await page.getByTestId('ticket-printed').waitFor({ timeout: 60_000 })
  let printed = []
  for (let i = 0; i < 40 && printed.length <= printedBefore; i++) {
    printed = pdfsIn(out)
    await new Promise((r) => setTimeout(r, 250))
  }
  assert.ok(printed.length > printedBefore, `a PDF printed into ${out}`)
  const text = execFileSync('pdftotext', ['-layout', printed[printed.length - 1], '-'], { encoding: 'utf8' })
  assert.match(text, new RegExp(number), `the printed ticket carries its number: ${text}`)
  assert.match(text, /110\*+0032/, 'the printed ticket shows the ID number masked')
  assert.doesNotMatch(text, new RegExp(ID))

  await page.getByTestId('logout').click()
  await page.getByTestId('welcome').waitFor({ timeout: 10_000 })
})
