// Postman's own tools, for astra-auth's import tests (tests/test_import_postman.py).
//
//   node postman.js convert OUT_DIR NAME=OPENAPI_FILE...
//     Converts each OpenAPI document with Postman's converter (openapi-to-postmanv2)
//     into OUT_DIR/NAME.v21.json, loads it with Postman's collection SDK
//     (postman-collection), and writes the same collection in the v2.0 format
//     (postman-collection-transformer, through v1) to OUT_DIR/NAME.v20.json.
//
//   node postman.js resolve COLLECTION [ENVIRONMENT]
//     Prints, as JSON, the auth that Postman's SDK finds for the collection and for
//     every item in it (inherited from the parents as Postman inherits it), with the
//     {{variables}} replaced by the SDK from the environment's enabled values and
//     then the collection's variables.

'use strict';

const fs = require('fs');
const path = require('path');
const sdk = require('postman-collection');

function fail (message) {
    process.stderr.write(message + '\n');
    process.exit(1);
}

function convert (file) {
    const Converter = require('openapi-to-postmanv2');

    return new Promise((resolve) => {
        Converter.convert({ type: 'string', data: fs.readFileSync(file, 'utf8') }, {},
            (error, result) => {
                if (error || !result.result) {
                    fail(file + ': ' + (error ? error.message : result.reason));
                }
                resolve(result.output[0].data);
            });
    });
}

function transform (collection, inputVersion, outputVersion) {
    const transformer = require('postman-collection-transformer');

    return new Promise((resolve) => {
        transformer.convert(collection, { inputVersion, outputVersion },
            (error, result) => {
                if (error) { fail('transformer: ' + error.message); }
                resolve(result);
            });
    });
}

async function convertAll (outDir, pairs) {
    for (const pair of pairs) {
        const name = pair.slice(0, pair.indexOf('='));
        const file = pair.slice(pair.indexOf('=') + 1);
        const v21 = await convert(file);

        // The SDK must take the collection as it is: every item and its auth.
        const loaded = new sdk.Collection(v21);
        if (!sdk.Collection.isCollection(loaded)) { fail(file + ': not a collection'); }
        loaded.forEachItem((item) => { item.getAuth(); });

        fs.writeFileSync(path.join(outDir, name + '.v21.json'), JSON.stringify(v21, null, 2));
        const v1 = await transform(v21, '2.1.0', '1.0.0');
        const v20 = await transform(v1, '1.0.0', '2.0.0');
        fs.writeFileSync(path.join(outDir, name + '.v20.json'), JSON.stringify(v20, null, 2));
    }
}

function resolveAll (collectionFile, environmentFile) {
    const raw = JSON.parse(fs.readFileSync(collectionFile, 'utf8'));
    // The SDK gives an item without an id one of its own: keep the ids the file has.
    const written = new Set();
    const collect = (items) => (items || []).forEach((it) => {
        if (it.id) { written.add(it.id); }
        if (it._postman_id) { written.add(it._postman_id); }
        collect(it.item);
    });
    collect(raw.item);
    const collection = new sdk.Collection(raw);
    const sources = [];
    if (environmentFile) {
        const environment = JSON.parse(fs.readFileSync(environmentFile, 'utf8'));
        const values = {};
        (environment.values || []).forEach((v) => {
            if (v.enabled !== false) { values[v.key] = v.value; }
        });
        sources.push(values);
    }
    sources.push(collection.variables);
    const show = (auth) => {
        if (!auth) { return null; }
        const params = {};
        auth.parameters().each((p) => {
            params[p.key] = typeof p.value === 'string' ?
                sdk.Property.replaceSubstitutions(p.value, sources) : p.value;
        });
        return { type: auth.type, params };
    };
    const found = [{ path: [], id: null, auth: show(collection.auth) }];
    const walk = (group, names) => {
        group.items.each((entry) => {
            const here = names.concat([entry.name]);
            const isGroup = sdk.ItemGroup.isItemGroup(entry);
            const auth = isGroup ?
                (entry.auth || entry.findInParents('auth')) : entry.getAuth();
            found.push({ path: here, id: entry.id, has_id: written.has(entry.id), folder: isGroup,
                auth: show(auth) });
            if (isGroup) { walk(entry, here); }
        });
    };
    walk(collection, []);
    process.stdout.write(JSON.stringify(found, null, 1) + '\n');
}

const [command, ...args] = process.argv.slice(2);
if (command === 'convert' && args.length >= 2) {
    convertAll(args[0], args.slice(1));
}
else if (command === 'resolve' && args.length >= 1) {
    resolveAll(args[0], args[1]);
}
else {
    fail('usage: node postman.js convert OUT_DIR NAME=OPENAPI_FILE... | resolve COLLECTION [ENVIRONMENT]');
}
