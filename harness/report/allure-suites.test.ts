import { expect, test } from '@playwright/test';
import type { TestResult } from 'allure-js-commons';
import { PARENT_SUITES, separateUnitTestsFromDrills } from './allure-suites.ts';

function resultOf(project: string): TestResult {
  return {
    uuid: 'u',
    name: 'a test',
    fullName: 'a test',
    historyId: 'h',
    status: 'passed',
    statusDetails: {},
    stage: 'finished',
    labels: [
      { name: 'parentSuite', value: project },
      { name: 'suite', value: 'estop.spec.ts' },
    ],
    links: [],
    parameters: [{ name: 'Project', value: project }],
    steps: [],
    attachments: [],
  } as TestResult;
}

function parentSuitesAfterWrite(project: string): string[] {
  const result = resultOf(project);
  separateUnitTestsFromDrills.beforeTestResultWrite!(result);
  return result.labels.filter((label) => label.name === 'parentSuite').map((label) => label.value);
}

test('unit tests and drills land in parent suites of their own, one each', () => {
  expect(parentSuitesAfterWrite('unit')).toEqual([PARENT_SUITES.unit]);
  for (const project of ['smoke', 'telemetry', 'ota', 'qos', 'hil', 'docker']) {
    expect(parentSuitesAfterWrite(project), project).toEqual([PARENT_SUITES.drills]);
  }
});

test('the other labels stay', () => {
  const result = resultOf('unit');
  separateUnitTestsFromDrills.beforeTestResultWrite!(result);
  expect(result.labels).toContainEqual({ name: 'suite', value: 'estop.spec.ts' });
});
