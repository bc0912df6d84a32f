/**
 * The import graph of `src/`, read with the TypeScript parser: one edge per import or re-export
 * (static, dynamic, type-only marked), resolved to repository paths. Used by the architecture
 * test; nothing in the app imports it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Repository-relative path of the importing file, e.g. `src/model/unet.ts`. */
  from: string;
  /** Repository-relative path of the imported file, or the bare specifier of a package. */
  to: string;
  /** As written in the source. */
  spec: string;
  /** `import type` / `export type`: erased from the bundle. */
  typeOnly: boolean;
  line: number;
}

const SOURCE = /\.(ts|tsx)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' ? [] : sourceFiles(path);
    return SOURCE.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function resolveSpec(from: string, spec: string): string | null {
  const path = resolve(dirname(from), spec.split('?')[0]);
  for (const candidate of [path, `${path}.ts`, `${path}.tsx`, join(path, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return null;
}

function isTypeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) return node.isTypeOnly;
  const clause = node.importClause;
  if (!clause) return false; // side-effect import
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  // `import { type A, type B } from` is erased too (verbatim module syntax aside).
  return !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

/** Every import of one file's text. */
export function importsOf(file: string, text: string, root: string): ImportEdge[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const edges: ImportEdge[] = [];
  const add = (literal: ts.StringLiteralLike, typeOnly: boolean) => {
    const spec = literal.text;
    const resolved = spec.startsWith('.') ? resolveSpec(file, spec) : null;
    if (spec.startsWith('.') && !resolved) throw new Error(`${relative(root, file)}: cannot resolve '${spec}'`);
    edges.push({
      from: relative(root, file),
      to: resolved ? relative(root, resolved) : spec,
      spec,
      typeOnly,
      line: source.getLineAndCharacterOfPosition(literal.getStart()).line + 1,
    });
  };
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteralLike(node.moduleSpecifier)) {
      add(node.moduleSpecifier, isTypeOnly(node));
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      add(node.arguments[0], false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteralLike(node.argument.literal)) {
      add(node.argument.literal, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** The graph of every `.ts`/`.tsx` file under `root/src` (fixtures excluded). */
export function readImportGraph(root: string): ImportEdge[] {
  return sourceFiles(join(root, 'src')).flatMap((file) => importsOf(file, readFileSync(file, 'utf8'), root));
}
