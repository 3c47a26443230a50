#!/usr/bin/env node
// Peer benchmark harness for mailauth (npm: mailauth).
//
//   NODE_PATH=DIR/node_modules node mailauth_bench.js sign|verify ed25519|rsa2048 CORPUS_DIR KEY_DIR
//
// Same interface as every harness driven by bench/peers.sh: all the *.eml in
// CORPUS_DIR are read into memory and the key is parsed before the clock
// starts; `sign` signs every message in passes until MTAS_BENCH_SECONDS (default 2)
// have elapsed, at least one full pass; `verify` signs every message once
// (untimed), then verifies in passes and exits non-zero unless each one
// passes. Prints one JSON line:
// {"impl":"mailauth","alg":..,"op":..,"messages":N,"bytes":B,"seconds":S}
// (totals over all passes; bytes counts the unsigned messages).
//
// ed25519-sha256 / rsa-sha256, relaxed/relaxed, mailauth's default header list.
// Messages go in one at a time (await each), as Buffers.
//
// Key: dkimSign() takes the key as a PEM and calls tools.getPrivateKey()
// (crypto.createPrivateKey) for every message. To parse it once, like every
// other harness, that export is memoised before the signer module loads (it
// destructures it at load time); the signing code itself runs unchanged.
// DNS: dkimVerify()'s `resolver` option answers from KEY_DIR/keys.txt;
// mailauth still parses the key record per message.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const tools = require('mailauth/lib/tools');
const parseKey = tools.getPrivateKey;
const parsedKeys = new Map();
tools.getPrivateKey = pem => {
    const id = pem.toString();
    if (!parsedKeys.has(id)) parsedKeys.set(id, parseKey(pem));
    return parsedKeys.get(id);
};
const { dkimSign } = require('mailauth/lib/dkim/sign');
const { dkimVerify } = require('mailauth/lib/dkim/verify');

const SELECTOR = { ed25519: 'ed', rsa2048: 'rsa' };
const ALGORITHM = { ed25519: 'ed25519-sha256', rsa2048: 'rsa-sha256' };

async function main() {
    const [op, alg, corpus, keydir] = process.argv.slice(2);
    if (!['sign', 'verify'].includes(op) || !SELECTOR[alg] || !keydir) {
        console.error('usage: mailauth_bench.js sign|verify ed25519|rsa2048 CORPUS_DIR KEY_DIR');
        process.exit(64);
    }
    const minSeconds = Number(process.env.MTAS_BENCH_SECONDS || 2);

    // ---- untimed setup: corpus, key, DNS stand-in ----
    const names = fs.readdirSync(corpus).filter(n => n.endsWith('.eml')).sort();
    if (!names.length) throw new Error(`no *.eml in ${corpus}`);
    let messages = names.map(n => fs.readFileSync(path.join(corpus, n)));
    const passBytes = messages.reduce((s, m) => s + m.length, 0);

    const privateKey = fs.readFileSync(path.join(keydir, `${alg}.key.pem`), 'utf8');
    tools.getPrivateKey(privateKey); // parse now, outside the clock

    const records = new Map();
    for (const line of fs.readFileSync(path.join(keydir, 'keys.txt'), 'utf8').split('\n')) {
        const sp = line.indexOf(' ');
        if (sp > 0) records.set(line.slice(0, sp).toLowerCase(), line.slice(sp + 1).trim());
    }
    const resolver = async (name, type) => {
        const record = type === 'TXT' && records.get(name.toLowerCase().replace(/\.$/, ''));
        if (!record) {
            const err = new Error(`no record for ${name}`);
            err.code = 'ENOTFOUND';
            throw err;
        }
        return [[record]];
    };

    const signOne = async msg => {
        const res = await dkimSign(msg, {
            // Without signTime, mailauth 4.13 takes t= from Date.now() twice (for the
            // signed header and again for the emitted one): a signature made across
            // a half-second boundary then fails to verify (about 1 in 1000 RSA signs).
            signTime: new Date(),
            canonicalization: 'relaxed/relaxed',
            algorithm: ALGORITHM[alg],
            signatureData: [{ signingDomain: 'bench.example', selector: SELECTOR[alg], privateKey }]
        });
        if (res.errors.length) throw res.errors[0].err || new Error('signing failed');
        return res.signatures;
    };
    const verifyOne = async msg => {
        const res = await dkimVerify(msg, { resolver });
        const r = res.results[0];
        if (!r || r.status.result !== 'pass') {
            throw new Error(`verification did not pass: ${JSON.stringify(r && r.status)}`);
        }
    };

    if (op === 'verify') {
        const signed = [];
        for (const m of messages) signed.push(Buffer.concat([Buffer.from(await signOne(m)), m]));
        messages = signed;
        for (const m of messages) await verifyOne(m); // fail before the clock starts
    }
    const work = op === 'sign' ? signOne : verifyOne;

    // ---- timed: whole passes until MTAS_BENCH_SECONDS ----
    let count = 0;
    let bytes = 0;
    let elapsed;
    const start = process.hrtime.bigint();
    do {
        for (const m of messages) await work(m);
        count += messages.length;
        bytes += passBytes;
        elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    } while (elapsed < minSeconds);

    console.log(JSON.stringify({ impl: 'mailauth', alg, op, messages: count, bytes, seconds: Number(elapsed.toFixed(6)) }));
}

main().catch(err => {
    console.error(`mailauth_bench: ${err.stack || err}`);
    process.exit(1);
});
