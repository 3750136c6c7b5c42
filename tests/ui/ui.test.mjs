// The web pages in a real browser: Debian's chromium, headless, driven by
// playwright-core.  Run by tests/integration/ui.sh, which starts nginx and
// the responder, makes the people and objects, and passes (environment):
//   UI_BASE        the mount, e.g. http://127.0.0.1:PORT/stackhook
//   UI_MODULES     the directory whose node_modules holds playwright-core
//   UI_CHROMIUM    the browser (/usr/bin/chromium)
//   UI_SHOTS       where the screenshots go
//   UI_ALICE_KEY   root admin; UI_BOB_KEY admin of parentspace;
//   UI_CAROL_KEY   reader of parentspace
//   UI_FIXTURES    tests/fixtures/gitlab/webhooks
// Each check prints "PASS what" or "FAIL what" (with "# " lines of
// diagnostics); the exit status is 0 when the scenario ran to its end.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const require = createRequire(path.join(process.env.UI_MODULES, 'package.json'));
const { chromium } = require('playwright-core');

const BASE = process.env.UI_BASE;
const ORIGIN = new URL(BASE).origin;
const SHOTS = process.env.UI_SHOTS;
const KEYS = {
  alice: process.env.UI_ALICE_KEY,
  bob: process.env.UI_BOB_KEY,
  carol: process.env.UI_CAROL_KEY,
};
const TOKEN = 'glpat-UiTestToken-9f3b2c';
// UI_ALL_SHOTS=1: also the other pages, for a look at every page.
const extraShot = async (page, name) => process.env.UI_ALL_SHOTS === '1' &&
  page.screenshot({ path: path.join(SHOTS, `extra-${name}.png`), fullPage: true });

function check(what, ok, diag) {
  console.log(`${ok ? 'PASS' : 'FAIL'} ${what}`);
  if (!ok && diag !== undefined)
    for (const line of String(diag).split('\n').slice(0, 20)) console.log(`# ${line}`);
  return ok;
}

async function api(who, method, route, body) {
  const headers = { Authorization: `Bearer ${KEYS[who]}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(BASE + route, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function webhook(slug, secret, fixture, event) {
  const r = await fetch(`${BASE}/webhooks/gitlab/${slug}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Gitlab-Token': secret,
      'X-Gitlab-Event': event,
    },
    body: readFileSync(path.join(process.env.UI_FIXTURES, fixture)),
  });
  return { status: r.status, json: await r.json() };
}

async function signIn(page, who) {
  await page.goto(`${BASE}/ui/`);
  await page.getByLabel('API key').fill(KEYS[who]);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${BASE}/ui/`);
}

async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL(/\/ui\/sign-in$/);
}

// Every page a reader opens, as the server sent it and as the browser
// holds it, to look for secrets in.
async function sourcesOf(page, url) {
  const resp = await page.goto(url);
  return { status: resp.status(), sent: await resp.text(), dom: await page.content() };
}

async function scenario(browser) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: ORIGIN });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);

  // --- not signed in: the sign-in page -------------------------------
  await page.goto(`${BASE}/ui/`);
  check('not signed in, /ui/ leads to the sign-in page', page.url().includes('/ui/sign-in'),
    page.url());
  await extraShot(page, 'sign-in');
  await page.keyboard.press('Tab');
  check('the first Tab reaches "Skip to content" (keyboard use)',
    (await page.evaluate(() => document.activeElement.textContent)) === 'Skip to content');

  // --- bob, admin of parentspace, sets up an integration -------------
  await signIn(page, 'bob');
  check('bob signs in with his API key and sees the Source code page',
    await page.getByRole('heading', { name: 'Source code' }).isVisible());
  check('the page lists the integrations bob may see',
    await page.getByRole('link', { name: 'GitLab Company' }).isVisible() &&
    await page.getByRole('link', { name: 'GitLab Backup' }).isVisible());

  await page.getByRole('link', { name: 'Set up integration' }).first().click();
  await page.waitForURL(`${BASE}/ui/set-up`);
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
      .filter((el) => el.labels.length === 0).map((el) => el.name));
  check('every field of the set-up form has a label', unlabelled.length === 0,
    unlabelled.join(' '));
  const spaces = await page.locator('#space option').evaluateAll((os) => os.map((o) => o.value));
  check('the Space chooser offers the spaces where bob is an admin',
    spaces.includes('parentspace') && spaces.includes('childspace') && !spaces.includes('root'),
    spaces.join(' '));
  check('the name field says it cannot change later',
    (await page.locator('#name-hint').textContent()).includes('cannot be changed'));

  await page.getByLabel('Name', { exact: true }).fill('GitLab Prod');
  await page.locator('#space').selectOption('parentspace');
  await page.getByLabel('API host URL').fill('gitlab.example.com');
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByLabel('Labels').fill('prod, eu');
  await page.getByLabel('Description').fill(
    'Production GitLab. **Ask** #platform before changing it.\n\n- pushes\n- merge requests');
  let resp = await Promise.all([
    page.waitForResponse((r) => r.url() === `${BASE}/ui/set-up` && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Set up integration' }).click(),
  ]).then(([r]) => r);
  const errorSent = await resp.text();
  check('an API host URL without a scheme is refused: 400', resp.status() === 400, resp.status());
  check('the API\'s message shows next to the API host URL field',
    (await page.locator('#api_host_url-error').textContent()).includes('https://host') &&
    (await page.getByLabel('API host URL').getAttribute('aria-invalid')) === 'true');
  check('what was typed is kept (name, URL, labels, description)',
    (await page.getByLabel('Name', { exact: true }).inputValue()) === 'GitLab Prod' &&
    (await page.getByLabel('API host URL').inputValue()) === 'gitlab.example.com' &&
    (await page.getByLabel('Labels').inputValue()) === 'prod, eu' &&
    (await page.getByLabel('Description').inputValue()).includes('**Ask**'));
  check('the token is never sent back: the field is empty, the page has no trace of it',
    (await page.getByLabel('API token').inputValue()) === '' && !errorSent.includes(TOKEN));
  await page.screenshot({ path: path.join(SHOTS, 'set-up-error.png'), fullPage: true });

  await page.getByLabel('API host URL').fill('https://gitlab.example.com');
  await page.getByLabel('API token').fill(TOKEN);
  await page.getByRole('button', { name: 'Set up integration' }).click();
  await page.waitForURL(`${BASE}/ui/integrations/gitlab-prod?created=1`);
  const url = await page.getByLabel('Webhook URL').inputValue();
  const secret = await page.getByLabel('Secret token').inputValue();
  const details = await api('bob', 'GET', '/api/v1/integrations/gitlab-prod/details');
  check('set up: the details page shows the webhook URL from the name',
    url === `${BASE}/webhooks/gitlab/gitlab-prod`, url);
  check('and the secret token, the same the API gives its admins',
    secret.length >= 40 && details.status === 200 && details.json.webhook_secret === secret);
  const events = await page.locator('main li').allTextContents();
  check('and the GitLab events to enable',
    ['Push events', 'Tag push events', 'Merge request events'].every((e) => events.includes(e)),
    events.join(', '));
  check('the description is rendered (strong, list), not shown as markup',
    await page.locator('.description strong', { hasText: 'Ask' }).isVisible() &&
    await page.locator('.description li', { hasText: 'merge requests' }).isVisible());
  check('the token is stored: the summary shows only its last four characters',
    (await page.locator('main').textContent()).includes(`ending in ${TOKEN.slice(-4)}`) &&
    !(await page.content()).includes(TOKEN));
  await page.screenshot({ path: path.join(SHOTS, 'details.png'), fullPage: true });

  await page.locator('button[data-copy="webhook-url"]').click();
  await page.locator('#webhook-url-copied', { hasText: 'Copied' }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check('the copy button puts the webhook URL on the clipboard', copied === url, copied);

  // --- the stack attached to it, a push and an ignored delivery ------
  await page.goto(`${BASE}/ui/stacks/vpc`);
  const offered = await page.locator('#integration-choice option').evaluateAll((os) => os.map((o) => o.value));
  check('the stack page offers only integrations its space can use',
    ['gitlab-prod', 'gitlab-backup', 'gitlab-company'].every((s) => offered.includes(s)) &&
    !offered.includes('gitlab-sibling'), offered.join(' '));
  await page.locator('#integration-choice').selectOption('gitlab-prod');
  await page.getByRole('button', { name: 'Attach integration' }).click();
  await page.waitForURL(`${BASE}/ui/stacks/vpc?attached=1`);
  check('attaching it on the stack page works',
    (await page.locator('main').textContent()).includes('through gitlab-prod'));

  const push = await webhook('gitlab-prod', secret, 'push_branch_create.json', 'Push Hook');
  const runId = push.json.runs && push.json.runs[0] && push.json.runs[0].id;
  check('a push to the stack\'s project makes a run', push.status === 202 && runId,
    JSON.stringify(push.json));
  const gone = await webhook('gitlab-prod', secret, 'push_branch_delete.json', 'Push Hook');
  check('a branch deletion is ignored', gone.status === 200 && gone.json.status === 'ignored',
    JSON.stringify(gone.json));

  await page.goto(`${BASE}/ui/stacks/vpc`);
  const why = await page.locator('main').textContent();
  check('the stack page lists the run and the ignored delivery with its reason',
    why.includes(runId) && why.includes(gone.json.reason), why.slice(0, 600));
  await extraShot(page, 'stack');

  await page.goto(`${BASE}/ui/`);
  check('the Source code page shows the new integration\'s health (last delivery)',
    (await page.locator('tr', { hasText: 'GitLab Prod' }).textContent()).includes('Last delivery'));
  await page.screenshot({ path: path.join(SHOTS, 'source-code.png'), fullPage: true });

  await page.setViewportSize({ width: 375, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  check('on a phone-sized screen the page does not scroll sideways', overflow <= 376, overflow);
  await extraShot(page, 'phone');
  await page.setViewportSize({ width: 1200, height: 860 });

  // --- carol, a reader: no secret anywhere -----------------------------
  await signOut(page);
  await signIn(page, 'carol');
  const pages = ['/ui/', '/ui/integrations/gitlab-prod', '/ui/stacks', '/ui/stacks/vpc',
    `/runs/${runId}`, '/ui/integrations/gitlab-prod/delete', '/ui/integrations/gitlab-prod/rotate'];
  const leaks = [];
  const statuses = [];
  for (const p of pages) {
    const s = await sourcesOf(page, BASE + p);
    statuses.push(`${p} ${s.status}`);
    for (const text of [s.sent, s.dom])
      if (text.includes(secret) || text.includes(TOKEN) || text.includes('webhook-secret'))
        leaks.push(p);
  }
  check('a reader finds no secret in any page source (list, summary, stacks, run, confirmations)',
    leaks.length === 0, leaks.join(' '));
  check('a reader sees the pages, and the confirmation pages are 403',
    statuses.join(',') === pages.map((p) => `${p} ${p.endsWith('delete') || p.endsWith('rotate') ? 403 : 200}`).join(','),
    statuses.join('\n'));
  await page.goto(`${BASE}/ui/integrations/gitlab-prod`);
  check('the reader gets the summary, with a note on who sees the details',
    (await page.locator('main').textContent()).includes('shown to the admins'));
  await extraShot(page, 'reader-summary');
  await page.goto(`${BASE}/ui/`);
  const menu = page.locator('tr', { hasText: 'GitLab Prod' }).locator('summary');
  await menu.focus();
  await page.keyboard.press('Enter');
  check('the row menu opens from the keyboard; a reader\'s has no Delete',
    await page.getByRole('link', { name: 'See summary' }).first().isVisible() &&
    (await page.locator('tr', { hasText: 'GitLab Prod' }).getByRole('link', { name: 'Delete' }).count()) === 0);
  await signOut(page);

  // --- bob deletes it: the stack is detached ---------------------------
  await signIn(page, 'bob');
  const row = page.locator('tr', { hasText: 'GitLab Prod' });
  await row.locator('summary').click();
  await row.getByRole('link', { name: 'Delete' }).click();
  await page.waitForURL(`${BASE}/ui/integrations/gitlab-prod/delete`);
  check('the confirmation names the stack it will detach',
    (await page.locator('#detached').textContent()).includes('VPC'));
  await extraShot(page, 'delete');
  await page.getByRole('button', { name: 'Delete GitLab Prod' }).click();
  await page.waitForURL(`${BASE}/ui/stacks?deleted=gitlab-prod`);
  const vpcRow = page.locator('tr', { hasText: 'VPC' });
  await extraShot(page, 'stacks-detached');
  check('after deleting, the stack shows as detached with "Choose integration"',
    (await vpcRow.textContent()).includes('Detached') &&
    await vpcRow.getByRole('link', { name: 'Choose integration' }).isVisible());
  const listed = await api('bob', 'GET', '/api/v1/stacks?integration=null');
  check('and the API lists it as detached too',
    listed.json.items.some((s) => s.id === 'vpc'));

  // --- another integration on the stack page ---------------------------
  await vpcRow.getByRole('link', { name: 'Choose integration' }).click();
  await page.locator('#integration-choice').selectOption('gitlab-backup');
  await page.getByRole('button', { name: 'Attach integration' }).click();
  await page.waitForURL(`${BASE}/ui/stacks/vpc?attached=1`);
  const stack = await api('bob', 'GET', '/api/v1/stacks/vpc');
  check('another integration is attached on the stack page',
    stack.json.integration === 'gitlab-backup' &&
    (await page.locator('main').textContent()).includes('through gitlab-backup'));

  // --- a run link ------------------------------------------------------
  await page.getByRole('link', { name: runId }).click();
  await page.waitForURL(`${BASE}/runs/${runId}`);
  const runText = await page.locator('main').textContent();
  await extraShot(page, 'run');
  check('the stack page\'s run link opens /runs/{id}, with its state and GitLab state',
    runText.includes(`Run ${runId}`) && runText.includes('queued') && runText.includes('pending'),
    runText.slice(0, 400));

  // --- a form posted from another site --------------------------------
  await page.goto(`${BASE}/ui/integrations/gitlab-backup/delete`);
  const csrf = await page.locator('input[name=csrf]').first().inputValue();
  await page.route('http://attacker.test/**', (r) => r.fulfill({
    contentType: 'text/html',
    body: `<form method="post" action="${BASE}/ui/integrations/gitlab-backup/delete">` +
      `<input name="csrf" value="${csrf}"></form>` +
      '<script>document.forms[0].submit()</script>',
  }));
  resp = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/ui/integrations/gitlab-backup/delete') &&
      r.request().method() === 'POST'),
    page.goto('http://attacker.test/'),
  ]).then(([r]) => r);
  const still = await api('bob', 'GET', '/api/v1/integrations/gitlab-backup');
  check('a form another site posts (even with a stolen token) is 403 and deletes nothing',
    resp.status() === 403 && still.status === 200, `${resp.status()} ${still.status}`);

  await context.close();
}

const browser = await chromium.launch({
  executablePath: process.env.UI_CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
let completed = false;
try {
  await scenario(browser);
  completed = true;
} catch (e) {
  check('the browser scenario runs without an exception', false, e.stack || e);
} finally {
  await browser.close();
}
process.exit(completed ? 0 : 1);
