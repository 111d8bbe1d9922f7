/**
 * ajv (JSON Schema 2020-12, formats checked) holding the gateway's OpenAPI document, so a test can
 * validate a request or response body against any schema in it by JSON pointer.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `export default`; under NodeNext the callable is `.default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** Where the document is registered: `$ref`s inside it resolve against this id. */
const DOC_ID = 'https://gateway.invalid/openapi.json';

export interface DocumentValidator {
  /** The validator of the schema at `pointer` (`/components/schemas/Webhook`), compiled once. */
  at(pointer: string): ValidateFunction;
}

export function createDocumentValidator(document: object): DocumentValidator {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, DOC_ID);
  const compiled = new Map<string, ValidateFunction>();
  return {
    at(pointer) {
      let validate = compiled.get(pointer);
      if (!validate) {
        validate = ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
        compiled.set(pointer, validate);
      }
      return validate;
    },
  };
}
