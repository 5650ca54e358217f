// Validates API responses against the schemas of the auditor's OpenAPI document (JSON Schema 2020-12).
import { Ajv2020 } from 'ajv/dist/2020.js';
import { buildOpenApiDocument } from '../../src/http/openapi.js';

const DOCUMENT_ID = 'https://chainlog.invalid/auditor/openapi.json';

export function openApiValidator(): (schemaName: string, value: unknown) => void {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ ...buildOpenApiDocument(), $id: DOCUMENT_ID });
  return (schemaName, value) => {
    const validate = ajv.getSchema(`${DOCUMENT_ID}#/components/schemas/${schemaName}`);
    if (validate === undefined) throw new Error(`no schema ${schemaName}`);
    if (!validate(value)) {
      throw new Error(`response does not match ${schemaName}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`);
    }
  };
}
