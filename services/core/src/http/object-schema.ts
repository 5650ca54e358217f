// JSON Schema objects for OpenAPI documents, type-checked against the TypeScript type they describe: the
// compiler refuses a schema that leaves out a property of the type or names one the type does not have, so a
// response type and its documented schema cannot drift apart. `required` is every property but the optional
// ones, which must be named (and only those can be).
export type JsonSchema = Readonly<Record<string, unknown>>;

type OptionalKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T];

export interface ObjectSchemaOptions<T> {
  readonly description?: string;
  /** The properties a value may leave out (the type's optional ones). */
  readonly optional?: readonly OptionalKeys<T>[];
  /** Refuse properties the type does not have (for values that are hashed or signed as they are). */
  readonly closed?: boolean;
}

export function objectSchema<T>(properties: { readonly [K in keyof Required<T>]: JsonSchema }, options: ObjectSchemaOptions<T> = {}): JsonSchema {
  const optional = new Set<PropertyKey>(options.optional ?? []);
  return {
    ...(options.description === undefined ? {} : { description: options.description }),
    type: 'object',
    required: Object.keys(properties).filter((key) => !optional.has(key)),
    properties,
    ...(options.closed === true ? { additionalProperties: false } : {}),
  };
}
