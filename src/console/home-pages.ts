import { html } from '../web/html.js'
import { list, summaryOf } from './entitlement-pages.js'
import { itemsOf, options } from './forms.js'
import { type ConsoleContext, type ConsoleRoutes, type Form, field } from './frame.js'
import { csrfField, type Notice, notice } from './layout.js'

/**
 * The House Mate home model in the console: houses with their rooms, the devices in them and their status,
 * and the occupants. It is read through show_configuration and list_occupants and changed through the
 * House Mate operations (define_house, define_room, define_device, define_occupant, add_occupant_to_house,
 * set_status), which check the administrator's permissions as they do for the API.
 */

interface DeviceView {
  id: string
  name: string
  kind: string
  type: string
  energy_use_watts: number | null
  status: Record<string, string>
}
interface RoomView {
  id: string
  name: string
  floor: number
  type: string
  windows: number
  devices: DeviceView[]
}
interface HouseView {
  id: string
  address: string
  occupants: { name: string; type: string; known: boolean }[]
  rooms: RoomView[]
}
interface OccupantView {
  name: string
  type: string
  known: boolean
  houses: string[]
}

const PATH = '/console/home'
const statusText = (status: Record<string, string>) =>
  Object.entries(status)
    .map(([name, value]) => `${name} ${value}`)
    .join(', ') || 'no status yet'

const device = (d: DeviceView) =>
  html`<li><strong>${d.name}</strong>: ${d.kind} ${d.type}${d.energy_use_watts === null ? '' : `, ${d.energy_use_watts} W when on`}; <span data-testid="status-${d.id}">${statusText(d.status)}</span></li>`

const house = (
  h: HouseView,
) => html`<section aria-labelledby="house-${h.id}"><h2 id="house-${h.id}">House ${h.id}</h2>
<p>${h.address ? html`At ${h.address}. ` : ''}Occupants: ${list(h.occupants.map((o) => `${o.name} (${o.type}${o.known ? '' : ', not named'})`))}.</p>
${
  h.rooms.length === 0
    ? html`<p>No room yet.</p>`
    : html`<table><caption class="visually-hidden">Rooms of ${h.id}</caption><thead><tr><th scope="col">Room</th><th scope="col">Type</th><th scope="col">Floor</th><th scope="col">Windows</th><th scope="col">Devices and their status</th></tr></thead>
<tbody>${h.rooms.map(
        (r) =>
          html`<tr><th scope="row">${r.name}</th><td>${r.type}</td><td>${r.floor}</td><td>${r.windows}</td><td>${r.devices.length === 0 ? 'none' : html`<ul>${r.devices.map(device)}</ul>`}</td></tr>`,
      )}</tbody></table>`
}</section>`

/** A form of the page: its heading, fields and button, posted to PATH/<action>. */
const form = (c: ConsoleContext, action: string, heading: string, fields: unknown, button: string) =>
  html`<section aria-labelledby="h-${action}"><h2 id="h-${action}">${heading}</h2>
<form method="post" action="${PATH}/${action}">${csrfField(c.csrf)}<div class="inline">${fields}<button type="submit">${button}</button></div></form></section>`

const input = (id: string, label: string, name: string, extra = html` required`) =>
  html`<div><label for="${id}">${label}</label><input type="text" id="${id}" name="${name}"${extra}></div>`
const number = (id: string, label: string, name: string, required: boolean) =>
  html`<div><label for="${id}">${label}</label><input type="number" id="${id}" name="${name}"${required ? html` required` : ''}></div>`
const select = (id: string, label: string, name: string, values: readonly string[]) =>
  html`<div><label for="${id}">${label}</label><select id="${id}" name="${name}" required><option value="">Choose…</option>${options(values)}</select></div>`

async function homePage(c: ConsoleContext, message?: Notice) {
  const [houses, occupants] = await Promise.all([
    itemsOf<HouseView>(c, 'show_configuration'),
    itemsOf<OccupantView>(c, 'list_occupants'),
  ])
  const houseIds = houses.map((h) => h.id)
  const rooms = houses.flatMap((h) => h.rooms.map((r) => r.id))
  const devices = houses.flatMap((h) => h.rooms.flatMap((r) => r.devices.map((d) => d.id)))
  return {
    title: 'Home model',
    body: html`${notice(message)}
<p>${houses.length} house(s), ${occupants.length} occupant(s). Houses, rooms and devices are resources too, each inside the one before: a resource role on a house covers its rooms and devices.</p>
${houses.map(house)}
${form(c, 'status', 'Set a device’s status', [select('s-device', 'Device', 'address', devices), input('s-status', 'Status', 'status'), input('s-value', 'Value', 'value')], 'Set status')}
<section aria-labelledby="h-occupant-list"><h2 id="h-occupant-list">Occupants</h2>
${
  occupants.length === 0
    ? html`<p>No occupant yet.</p>`
    : html`<table><caption class="visually-hidden">Occupants</caption><thead><tr><th scope="col">Occupant</th><th scope="col">Type</th><th scope="col">Named</th><th scope="col">Lives in</th></tr></thead>
<tbody>${occupants.map((o) => html`<tr><th scope="row">${o.name}</th><td>${o.type}</td><td>${o.known ? 'yes' : 'no'}</td><td>${list(o.houses)}</td></tr>`)}</tbody></table>`
}</section>
${form(
  c,
  'occupants/add',
  'Add an occupant to a house',
  [
    select(
      'a-occupant',
      'Occupant',
      'name',
      occupants.map((o) => o.name),
    ),
    select('a-house', 'To house', 'house', houseIds),
  ],
  'Add occupant',
)}
${form(c, 'houses', 'Define a house', [input('h-id', 'New house id', 'id'), input('h-address', 'Address', 'address', html``)], 'Define house')}
${form(c, 'rooms', 'Define a room', [select('r-house', 'In house', 'house', houseIds), input('r-name', 'Room name', 'name'), input('r-type', 'Room type', 'type', html` required placeholder="kitchen"`), number('r-floor', 'Floor', 'floor', true), number('r-windows', 'Windows', 'windows', false)], 'Define room')}
${form(c, 'devices', 'Define a device', [select('d-room', 'In room', 'room', rooms), input('d-name', 'Device name', 'name'), html`<div><label for="d-kind">Kind</label><select id="d-kind" name="kind">${options(['appliance', 'sensor'])}</select></div>`, input('d-type', 'Device type', 'type', html` required placeholder="oven"`), number('d-watts', 'Watts when on', 'energy_use_watts', false)], 'Define device')}
${form(c, 'occupants', 'Define an occupant', [input('o-name', 'Occupant name', 'name'), html`<div><label for="o-type">Occupant type</label><select id="o-type" name="type">${options(['adult', 'child', 'pet'])}</select></div>`, html`<div><label for="o-known"><input type="checkbox" id="o-known" name="known" value="yes" checked> Named (gets a user with the voice print --name--)</label></div>`], 'Define occupant')}`,
  }
}

/** The optional number fields the administrator filled in, as numbers the operation's schema converts. */
const filled = (form: Form, names: readonly string[]) =>
  Object.fromEntries(names.filter((n) => field(form, n).trim() !== '').map((n) => [n, field(form, n).trim()]))

export function homePages(routes: ConsoleRoutes) {
  const action = (
    path: string,
    summary: string,
    fields: Record<string, string>,
    operation: string,
    inputOf: (form: Form) => Record<string, unknown>,
  ) =>
    routes.action(
      `${PATH}/${path}`,
      'home',
      `${summary} (${operation})`,
      fields,
      async (c, form) => summaryOf(await c.run(operation, inputOf(form))),
      homePage,
    )

  routes.page(PATH, 'home', 'The home model: houses, rooms, devices with their status, occupants', homePage)
  action('houses', 'Defines a house', { id: 'The house', address: 'Its address' }, 'define_house', (f) => ({
    id: field(f, 'id').trim(),
    ...filled(f, ['address']),
  }))
  action(
    'rooms',
    'Defines a room of a house',
    { house: 'The house', name: 'The room', type: 'Its type', floor: 'Its floor', windows: 'Its windows' },
    'define_room',
    (f) => ({
      house: field(f, 'house'),
      name: field(f, 'name').trim(),
      type: field(f, 'type').trim(),
      ...filled(f, ['floor', 'windows']),
    }),
  )
  action(
    'devices',
    'Defines a sensor or an appliance in a room',
    {
      room: '<house>:<room>',
      name: 'The device',
      kind: 'sensor or appliance',
      type: 'Its type',
      energy_use_watts: 'What it draws when on',
    },
    'define_device',
    (f) => {
      const [house = '', room = ''] = field(f, 'room').split(':')
      return {
        house,
        room,
        name: field(f, 'name').trim(),
        kind: field(f, 'kind'),
        type: field(f, 'type').trim(),
        ...filled(f, ['energy_use_watts']),
      }
    },
  )
  action(
    'status',
    'Sets a status value of a device',
    { address: '<house>:<room>:<device>', status: 'The status', value: 'Its value' },
    'set_status',
    (f) => ({
      address: field(f, 'address'),
      status: field(f, 'status').trim(),
      value: field(f, 'value').trim(),
    }),
  )
  action(
    'occupants',
    'Defines an occupant',
    { name: 'The occupant', type: 'adult, child or pet', known: '"yes": named, with a user' },
    'define_occupant',
    (f) => ({ name: field(f, 'name').trim(), type: field(f, 'type'), known: field(f, 'known') === 'yes' }),
  )
  action(
    'occupants/add',
    'Makes an occupant a resident of a house',
    { name: 'The occupant', house: 'The house' },
    'add_occupant_to_house',
    (f) => ({ name: field(f, 'name'), house: field(f, 'house') }),
  )
}
