import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newAuditablePage } from '../support/axe.js'
import { launchChromium } from '../support/browser.js'
import { checkPage, goTo, signInWithBrowser } from '../support/console.js'
import { call, type RunningServer, startWithAdmin, userWithSession } from '../support/server.js'
import { tempSqlite } from '../support/temp-store.js'

/**
 * Entitlements and the home model in the administrator's console, in Debian's Chromium: an administrator
 * defines a permission and a role with a nested role, creates a resource inside another and a resource role
 * on the outer one, gives it to a user, and Explain shows the decision's path through the ancestor; then it
 * builds a house (room, device, its status, an occupant). A holder of user_admin alone neither sees these
 * areas nor can use them. axe-core checks every page visited.
 */
describe('entitlements and the home model in the console', () => {
  const temp = tempSqlite()
  let server: RunningServer
  let admin: string
  let browser: Browser
  let page: Page

  const api = async (method: string, path: string) => {
    const response = await call(server.url, method, path, { token: admin })
    expect(response.status, `${method} ${path}: ${JSON.stringify(response.body)}`).toBeLessThan(300)
    return response.body
  }
  const statusSays = (p: Page, text: string) => p.getByRole('status').filter({ hasText: text }).waitFor()
  const submit = (p: Page, button: string) => p.getByRole('button', { name: button, exact: true }).click()

  beforeAll(async () => {
    ;({ server, admin } = await startWithAdmin(temp.target))
    browser = await launchChromium()
    page = await newAuditablePage(browser, { viewport: { width: 1280, height: 800 } })
    page.setDefaultTimeout(10_000)
    await signInWithBrowser(page, server.url, 'admin', server.adminPassword as string)
  })
  afterAll(async () => {
    await browser?.close()
    await server?.stop()
    temp.remove()
  })

  it('defines a permission and a role with a nested role, on its own page', async () => {
    await goTo(page, 'Permissions')
    for (const [id, name] of [
      ['control_heating', 'Heating'],
      ['scratch', 'Scratch'],
    ] as const) {
      await page.getByLabel('New permission id').fill(id)
      await page.getByLabel('Name', { exact: true }).fill(name)
      await page.getByLabel('Description').fill(`${name}, for the test`)
      await submit(page, 'Define permission')
      await statusSays(page, `defined permission ${id}`)
    }
    await submit(page, 'Delete scratch')
    await statusSays(page, 'deleted permission scratch')
    await expect(page.getByRole('row', { name: /control_heating/ }).count()).resolves.toBe(1)
    await expect(page.getByRole('row', { name: /scratch/ }).count()).resolves.toBe(0)
    await checkPage(page, 'permissions')

    await goTo(page, 'Roles')
    for (const id of ['heating_user', 'resident']) {
      await page.getByLabel('New role id').fill(id)
      await page.getByLabel('Name', { exact: true }).fill(id.replace('_', ' '))
      await submit(page, 'Define role')
      await statusSays(page, `defined role ${id}`)
    }
    await checkPage(page, 'roles')
    await page.getByRole('link', { name: 'heating_user' }).click()
    await page.getByRole('heading', { name: 'Role heating_user', level: 1 }).waitFor()
    await page.getByLabel('Permission or role to add').fill('control_heating')
    await submit(page, 'Add to heating_user')
    await statusSays(page, 'added permission control_heating to role heating_user')

    await page.getByRole('link', { name: 'All roles' }).click()
    await page.getByRole('link', { name: 'resident' }).click()
    await page.getByLabel('Permission or role to add').fill('heating_user')
    await submit(page, 'Add to resident')
    await statusSays(page, 'added role heating_user to role resident')
    // The nested role's permission is the outer role's too.
    await expect(page.getByRole('row', { name: /nested roles’ included/ }).textContent()).resolves.toContain(
      'control_heating',
    )
    await expect(
      page.getByRole('listitem').filter({ hasText: 'Nested role heating_user' }).count(),
    ).resolves.toBe(1)
    await checkPage(page, 'role')
    expect(await api('GET', '/v1/roles/resident')).toMatchObject({
      roles: ['heating_user'],
      effective_permissions: ['control_heating'],
    })
  })

  it('creates a resource inside another as a tree, and a resource role on the outer one', async () => {
    await goTo(page, 'Resources')
    for (const [id, parent] of [
      ['estate', ''],
      ['flat7', 'estate'],
    ] as const) {
      await page.getByLabel('New resource id').fill(id)
      await page.getByLabel('Description').fill(`The ${id}`)
      if (parent) await page.getByLabel('Parent resource').selectOption(parent)
      await submit(page, 'Create resource')
      await statusSays(page, id)
    }
    // flat7 is an item of a list inside estate's item.
    const tree = page.getByRole('list', { name: 'Resources, each inside its parent' })
    const estate = tree.getByRole('listitem').filter({ hasText: 'The estate' }).first()
    await expect(estate.getByRole('list').getByRole('listitem').textContent()).resolves.toContain('flat7')
    // estate has something inside it: the operation refuses, and the page says why.
    await submit(page, 'Delete estate')
    await page.getByRole('alert').waitFor()
    await expect(page.getByRole('alert').textContent()).resolves.toContain('estate')
    await expect(api('GET', '/v1/resources/estate')).resolves.toMatchObject({ id: 'estate' })

    await goTo(page, 'Resource roles')
    await page.getByLabel('New resource role id').fill('estate_resident')
    await page.getByLabel('Role', { exact: true }).fill('resident')
    await page.getByLabel('On resource').selectOption('estate')
    await submit(page, 'Create resource role')
    await statusSays(page, 'created resource role estate_resident: role resident on estate')
    await checkPage(page, 'resource-roles')
    await goTo(page, 'Resources')
    await expect(estate.textContent()).resolves.toContain('resource roles: estate_resident')
    await checkPage(page, 'resources')
  })

  it('gives the resource role to a user, and Explain shows the path through the ancestor', async () => {
    await goTo(page, 'Users')
    await page.getByLabel('User id').fill('erin')
    await page.getByLabel('Name', { exact: true }).fill('Erin Tenant')
    await submit(page, 'Create user')
    await statusSays(page, 'created user erin')
    await page.getByRole('link', { name: 'erin', exact: true }).click()
    await page.getByLabel('Resource role', { exact: true }).fill('estate_resident')
    await submit(page, 'Give resource role')
    await statusSays(page, 'granted resource role estate_resident to user erin')

    await goTo(page, 'Explain a decision')
    await page.getByLabel('User', { exact: true }).fill('erin')
    await page.getByLabel('Permission', { exact: true }).fill('control_heating')
    await page.getByLabel('Resource', { exact: true }).fill('flat7')
    await submit(page, 'Explain')
    await page.getByRole('heading', { name: 'Decision', exact: true }).waitFor()
    await expect(page.locator('.allowed').textContent()).resolves.toBe('Allowed')
    await expect(page.getByTestId('reason').textContent()).resolves.toBe(
      'erin holds control_heating on estate, which contains flat7',
    )
    await checkPage(page, 'explain-ancestor')
  })

  it("sets and clears a user's credential, gives and takes away a role, ends its sessions, deletes it", async () => {
    const login = (password: string) =>
      call(server.url, 'POST', '/v1/sessions', { body: { user: 'erin', password } })
    const userPage = async () => {
      await goTo(page, 'Users')
      await page.getByRole('link', { name: 'erin', exact: true }).click()
      await page.getByRole('heading', { name: 'User erin', level: 1 }).waitFor()
    }
    await userPage()
    await page.getByLabel('Kind').selectOption('password')
    await page.getByLabel('New value').fill('erin password 1')
    await submit(page, 'Set credential')
    await statusSays(page, 'added password credential of user erin')
    const session = await login('erin password 1')
    expect(session.status).toBe(201)
    const token = session.body.token as string
    const check = () =>
      call(server.url, 'POST', '/v1/check', {
        token,
        body: { permission: 'control_heating', resource: 'flat7' },
      })
    expect((await check()).status).toBe(200)

    await userPage()
    await expect(page.getByRole('region', { name: 'Open sessions' }).getByRole('row').count()).resolves.toBe(
      2,
    )
    await page.getByLabel('Role or permission', { exact: true }).fill('heating_user')
    await submit(page, 'Give role or permission')
    await statusSays(page, 'granted role heating_user to user erin')
    await expect(page.getByRole('row', { name: /^Roles/ }).textContent()).resolves.toContain('heating_user')
    await checkPage(page, 'user-roles')
    await submit(page, 'Take away heating_user')
    await statusSays(page, 'revoked role heating_user from user erin')
    await submit(page, 'End every session of erin')
    await statusSays(page, 'ended 1 session(s) of user erin')
    expect((await check()).status).toBe(401)
    await submit(page, 'Clear password')
    await statusSays(page, 'removed password credential of user erin')
    expect((await login('erin password 1')).status).toBe(401)

    await goTo(page, 'Users')
    await page.getByLabel('User id').fill('frank')
    await page.getByLabel('Name', { exact: true }).fill('Frank')
    await submit(page, 'Create user')
    await page.getByRole('link', { name: 'frank', exact: true }).click()
    await submit(page, 'Delete user frank')
    await statusSays(page, 'deleted user frank')
    await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor()
    expect((await call(server.url, 'GET', '/v1/users/frank', { token: admin })).status).toBe(404)
  })

  it('builds a house: a room, a device and its status, an occupant living there', async () => {
    await goTo(page, 'Home model')
    await page.getByLabel('New house id').fill('cottage')
    await page.getByLabel('Address').fill('3 Mill Lane')
    await submit(page, 'Define house')
    await statusSays(page, 'defined house cottage at 3 Mill Lane')
    await page.getByLabel('In house').selectOption('cottage')
    await page.getByLabel('Room name').fill('kitchen')
    await page.getByLabel('Room type').fill('kitchen')
    await page.getByLabel('Floor').fill('0')
    await page.getByLabel('Windows').fill('2')
    await submit(page, 'Define room')
    await statusSays(page, 'defined room cottage:kitchen (kitchen, floor 0, 2 window(s))')
    await page.getByLabel('In room').selectOption('cottage:kitchen')
    await page.getByLabel('Device name').fill('oven')
    await page.getByLabel('Kind').selectOption('appliance')
    await page.getByLabel('Device type').fill('oven')
    await page.getByLabel('Watts when on').fill('2000')
    await submit(page, 'Define device')
    await statusSays(page, 'defined appliance cottage:kitchen:oven (oven, 2000 W)')
    await expect(page.getByTestId('status-cottage:kitchen:oven').textContent()).resolves.toBe('no status yet')

    await page.getByLabel('Device', { exact: true }).selectOption('cottage:kitchen:oven')
    await page.getByLabel('Status', { exact: true }).fill('power')
    await page.getByLabel('Value').fill('on')
    await submit(page, 'Set status')
    await statusSays(page, 'set cottage:kitchen:oven power to on')
    await expect(page.getByTestId('status-cottage:kitchen:oven').textContent()).resolves.toBe('power on')

    await page.getByLabel('Occupant name').fill('olive')
    await page.getByLabel('Occupant type').selectOption('adult')
    await submit(page, 'Define occupant')
    await statusSays(page, 'defined adult occupant olive')
    await page.getByLabel('Occupant', { exact: true }).selectOption('olive')
    await page.getByLabel('To house').selectOption('cottage')
    await submit(page, 'Add occupant')
    await statusSays(page, 'added adult olive to cottage')
    await page
      .getByRole('region', { name: 'House cottage' })
      .getByText(/^At 3 Mill Lane\. Occupants: olive \(adult\)\.$/)
      .waitFor()
    await expect(page.getByRole('row', { name: /olive/ }).textContent()).resolves.toContain('cottage')
    await checkPage(page, 'home')
    // The same model the API answers, read through the operation the page is built on.
    expect((await api('GET', '/v1/occupants')).items).toEqual([
      { name: 'olive', type: 'adult', known: true, houses: ['cottage'] },
    ])
    const oven = await api('GET', '/v1/devices/cottage:kitchen:oven')
    expect(oven.status).toEqual({ power: 'on' })
  })

  it('shows a holder of user_admin alone none of these areas, and refuses their pages and forms', async () => {
    await call(server.url, 'POST', '/v1/permissions', {
      token: admin,
      body: { id: 'user_admin', name: 'User admin', description: 'Users' },
    })
    await userWithSession(server.url, admin, 'ulla')
    await api('PUT', '/v1/users/ulla/roles/user_admin')
    const own = await newAuditablePage(browser)
    await signInWithBrowser(own, server.url, 'ulla', 'ulla password')
    const links = await own
      .getByRole('navigation', { name: 'Console areas' })
      .getByRole('link')
      .allTextContents()
    expect(links).toEqual(['Overview', 'Users'])
    for (const path of [
      '/console/permissions',
      '/console/roles',
      '/console/roles/resident',
      '/console/resources',
      '/console/resource-roles',
      '/console/home',
    ]) {
      const response = await own.goto(`${server.url}${path}`)
      expect(response?.status(), path).toBe(403)
      await own.getByRole('heading', { name: 'Not allowed' }).waitFor()
    }
    await checkPage(own, 'not-allowed-entitlements')
    // Its own session's CSRF token, from the sign-out form: the forms are refused for the area, not the token.
    const csrf = (await own.locator('input[name="csrf"]').first().getAttribute('value')) as string
    const forms = [
      ['/console/permissions', { id: 'ulla_perm', name: 'x', description: '' }],
      ['/console/permissions/control_heating/delete', {}],
      ['/console/roles', { id: 'ulla_role', name: 'x', description: '' }],
      ['/console/roles/resident/entitlements', { member: 'user_admin' }],
      ['/console/roles/resident/delete', {}],
      ['/console/resources', { id: 'ulla_res', description: '' }],
      ['/console/resources/flat7/delete', {}],
      ['/console/resource-roles', { id: 'ulla_rr', role: 'resident', resource: 'estate' }],
      ['/console/resource-roles/estate_resident/delete', {}],
      ['/console/home/houses', { id: 'ulla_house' }],
      ['/console/home/status', { address: 'cottage:kitchen:oven', status: 'power', value: 'off' }],
    ] as const
    for (const [path, fields] of forms) {
      const response = await own.request.post(`${server.url}${path}`, { form: { csrf, ...fields } })
      expect(response.status(), path).toBe(403)
    }
    await own.close()
    expect(await api('GET', '/v1/roles/resident')).toMatchObject({ roles: ['heating_user'], permissions: [] })
    const ids = async (path: string) => ((await api('GET', path)).items as { id: string }[]).map((i) => i.id)
    expect(await ids('/v1/resource-roles')).toEqual(['cottage_adult_resident', 'estate_resident'])
    expect(await ids('/v1/resources')).toContain('flat7')
    expect(await ids('/v1/resources')).not.toContain('ulla_res')
    expect(await ids('/v1/permissions')).toContain('control_heating')
    expect(await ids('/v1/permissions')).not.toContain('ulla_perm')
    expect(await ids('/v1/roles')).not.toContain('ulla_role')
    expect((await api('GET', '/v1/devices/cottage:kitchen:oven')).status).toEqual({ power: 'on' })
  })
})
