// The operations of a running server's /openapi.json, read for tests that walk them: each
// operation's method, path, parameters, example body and documented answers, which operation a
// request reaches (as Fastify's router picks it), and which error codes one documents for a status.

type Responses = Record<string, { content?: Record<string, { schema?: unknown }> }>;
export interface Op {
  readonly key: string;
  readonly method: string;
  readonly template: string;
  readonly params: string[];
  readonly query: { name: string; required: boolean; schema: { type?: string; enum?: string[] } }[];
  readonly body: { example: unknown; contentType: string } | null;
  readonly responses: Responses;
  readonly auth: boolean;
}

/** The operations of an OpenAPI document. */
export function readOps(doc: { paths: Record<string, Record<string, any>> }): Op[] {
  const out: Op[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const parameters = (op.parameters ?? []) as {
        in: string;
        name: string;
        required?: boolean;
        schema: any;
      }[];
      const media = Object.entries(
        (op.requestBody?.content ?? {}) as Record<string, { example?: unknown }>,
      )[0];
      out.push({
        key: `${method.toUpperCase()} ${template}`,
        method: method.toUpperCase(),
        template,
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name),
        query: parameters
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, required: p.required === true, schema: p.schema })),
        body: media ? { contentType: media[0], example: media[1].example ?? {} } : null,
        responses: op.responses as Responses,
        auth: (op.security ?? []).length > 0,
      });
    }
  }
  return out;
}

/** The documented operation a request reaches, as Fastify's router would pick it, or null. */
export function routeOf(ops: readonly Op[], method: string, path: string): Op | null {
  const segments = path.split('?')[0]!.split('/');
  let best: { op: Op; statics: number } | null = null;
  for (const op of ops) {
    if (op.method !== (method === 'HEAD' ? 'GET' : method)) continue;
    const parts = op.template.split('/');
    if (parts.length !== segments.length) continue;
    let statics = 0;
    const fits = parts.every((part, i) => {
      if (part.startsWith('{')) return segments[i] !== '';
      statics++;
      return part === segments[i];
    });
    if (fits && (!best || statics > best.statics)) best = { op, statics };
  }
  return best?.op ?? null;
}

/** The error codes `op` documents under `status` (/readyz's 503 has an alternative shape). */
export function documentedCodes(op: Op, status: number): string[] {
  const schema = op.responses[status]?.content?.['application/json']?.schema as any;
  const error = schema?.anyOf?.find((s: any) => s.properties?.error) ?? schema;
  return error?.properties?.error?.properties?.code?.enum ?? [];
}
