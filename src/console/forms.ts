import { html } from '../web/html.js'
import type { ConsoleContext } from './frame.js'
import { csrfField } from './layout.js'

/** Pieces of the console's forms that several areas share. */

/** A form of one button posting to `action`: its label says what it does, to what. */
export const postButton = (c: ConsoleContext, action: string, label: string) =>
  html`<form method="post" action="${action}" class="row">${csrfField(c.csrf)}<button type="submit">${label}</button></form>`

/** The items a listing operation answers. */
export const itemsOf = async <T>(c: ConsoleContext, listing: string) =>
  ((await c.run(listing)) as { items: T[] }).items

/** The options of a select, each its own value. */
export const options = (values: readonly string[], selected = '') =>
  values.map((v) => html`<option${v === selected ? html` selected` : ''}>${v}</option>`)

/** The form that defines something with an id, a name and a description (a permission, a role). */
export const definitionForm = (c: ConsoleContext, what: string, action: string) => {
  const id = (field: string) => `define-${what}-${field}`
  return html`<section aria-labelledby="${id('heading')}"><h2 id="${id('heading')}">Define a ${what}</h2>
<form method="post" action="${action}">${csrfField(c.csrf)}
<div class="inline"><div><label for="${id('id')}">New ${what} id</label><input type="text" id="${id('id')}" name="id" required></div>
<div><label for="${id('name')}">Name</label><input type="text" id="${id('name')}" name="name" required></div>
<div><label for="${id('description')}">Description</label><input type="text" id="${id('description')}" name="description"></div>
<button type="submit">Define ${what}</button></div></form></section>`
}
