import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The layout's rules, read from the import lines of src/ (tests aside): folders never import each other in a
// circle, nor do files; the kernel knows no domain; no source file is over 500 lines.

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src')
const MAX_LINES = 500

/** What the kernel may import: no domain, only the store, the audit log, decisions and the shared modules. */
const KERNEL_MAY_IMPORT = new Set(['kernel', 'store', 'audit', 'decision', 'errors', 'config', 'logger'])

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
  })
}

/** The relative imports of a file, as paths under src/ (`./x.js` names the source `./x.ts`). */
function importsOf(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/^\s*(?:import|export)\b[^'";]*?['"](\.{1,2}\/[^'"]+)['"]/gm)]
  return specifiers.map((m) => relative(SRC, resolve(dirname(file), (m[1] ?? '').replace(/\.js$/, '.ts'))))
}

/** A file's folder under src/, or the file's own name for the few at the top (config, errors, ...). */
const folderOf = (path: string) => (path.split('/')[0] ?? '').replace(/\.ts$/, '')

/** The strongly connected components of more than one node (Tarjan), each sorted: the cycles. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const order = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const found: string[][] = []
  const visit = (node: string) => {
    order.set(node, order.size)
    low.set(node, order.get(node) ?? 0)
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (!order.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0))
      } else if (stack.includes(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, order.get(next) ?? 0))
      }
    }
    if (low.get(node) !== order.get(node)) return
    const component: string[] = []
    for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
      component.push(member)
      if (member === node) break
    }
    if (component.length > 1) found.push(component.sort())
  }
  for (const node of graph.keys()) if (!order.has(node)) visit(node)
  return found
}

const files = sourceFiles(SRC).map((path) => {
  const text = readFileSync(path, 'utf8')
  return { name: relative(SRC, path), lines: text.split('\n').length - 1, imports: importsOf(path, text) }
})

function graphOf(key: (path: string) => string): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>()
  for (const file of files) {
    const edges = graph.get(key(file.name)) ?? new Set()
    for (const target of file.imports) if (key(target) !== key(file.name)) edges.add(key(target))
    graph.set(key(file.name), edges)
  }
  return graph
}

describe('the layout of src/', () => {
  it('reads the import lines of every source file', () => {
    expect(files.length).toBeGreaterThan(50)
    expect(files.find((f) => f.name === 'http/app.ts')?.imports).toContain('errors.ts')
  })

  it('has no folder importing another that imports it back, however far round', () => {
    expect(cycles(graphOf(folderOf))).toEqual([])
  })

  it('has no file importing another that imports it back, however far round', () => {
    expect(cycles(graphOf((path) => path))).toEqual([])
  })

  it('has a kernel that imports no domain', () => {
    const kernelImports = files
      .filter((f) => folderOf(f.name) === 'kernel')
      .flatMap((f) => f.imports.map((target) => ({ from: f.name, target })))
    expect(kernelImports.length).toBeGreaterThan(0)
    expect(kernelImports.filter(({ target }) => !KERNEL_MAY_IMPORT.has(folderOf(target)))).toEqual([])
  })

  it(`has no source file over ${MAX_LINES} lines`, () => {
    expect(files.filter((f) => f.lines > MAX_LINES).map((f) => `${f.name}: ${f.lines} lines`)).toEqual([])
  })
})
