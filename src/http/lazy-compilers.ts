/**
 * Route schemas compiled when a route is first used instead of all at start-up. Fastify compiles a
 * validator (Ajv) and a serializer (fast-json-stringify) for every schema of every route before it
 * listens: some fifty routes, a third of the daemon's cold start. Wrapped here, each compiles on its
 * route's first request (a few milliseconds, once), with Fastify's own compilers and options, so
 * what is accepted, refused and sent is unchanged.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type Validate = ((data: unknown) => unknown) & { errors?: unknown };
type RouteSchema = { schema: unknown; method: string; url: string; httpPart?: string };

/** The `schemaController` option for `Fastify()`. */
export function lazySchemaCompilers(): NonNullable<FastifyServerOptions['schemaController']> {
  const buildValidator = AjvCompiler();
  const buildSerializer = SerializerSelector();
  return {
    compilersFactory: {
      buildValidator: (externalSchemas: unknown, options: unknown) => {
        const compile = (buildValidator as (e: unknown, o: unknown) => (route: RouteSchema) => Validate)(externalSchemas, options);
        return (route: RouteSchema) => {
          let validate: Validate | undefined;
          const lazy: Validate = (data) => {
            validate ??= compile(route);
            const result = validate(data);
            lazy.errors = validate.errors;
            return result;
          };
          return lazy;
        };
      },
      buildSerializer: (externalSchemas: unknown, options: unknown) => {
        const compile = (buildSerializer as (e: unknown, o: unknown) => (route: RouteSchema) => (data: unknown) => string)(
          externalSchemas,
          options,
        );
        return (route: RouteSchema) => {
          let serialize: ((data: unknown) => string) | undefined;
          return (data: unknown) => (serialize ??= compile(route))(data);
        };
      },
    },
  } as unknown as NonNullable<FastifyServerOptions['schemaController']>;
}
